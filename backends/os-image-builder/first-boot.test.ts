/**
 * The installed OS's first-boot scripts (image-files/), run on the host against a fake state
 * folder and sysfs: the marker line, and the report client against a local HTTP server, its
 * signatures checked by `openssl dgst -verify` (the independent oracle), not by our code.
 */
import { execFileSync } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMAGE_FILES_DIR } from "./tree.ts";

let work: string;
const EFI_GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c";

async function fakeSysfs(dir: string, firmware: "bios" | "uefi", secureBoot: boolean): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  if (firmware === "uefi") {
    await mkdir(join(dir, "firmware/efi/efivars"), { recursive: true });
    await writeFile(
      join(dir, `firmware/efi/efivars/SecureBoot-${EFI_GLOBAL}`),
      Buffer.from([6, 0, 0, 0, secureBoot ? 1 : 0]),
    );
  }
  return dir;
}

const env = (state: string, sysfs: string) => ({
  BOOTMEDIA_STATE_DIR: state,
  BOOTMEDIA_SYSFS: sysfs,
  BOOTMEDIA_LIB: IMAGE_FILES_DIR,
  BOOTMEDIA_MARKER_TTYS: "/dev/null",
});

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-first-boot-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("bootmedia-installed-os", () => {
  it.each([
    ["bios", false],
    ["uefi", false],
    ["uefi", true],
  ] as const)("prints one marker line (%s, Secure Boot %s)", async (firmware, sb) => {
    const state = join(work, "state-marker");
    await mkdir(state, { recursive: true });
    const sysfs = await fakeSysfs(join(work, "sys"), firmware, sb);
    const r = await execa("sh", [join(IMAGE_FILES_DIR, "bootmedia-installed-os")], { env: env(state, sysfs) });
    const m = /^BOOTMEDIA (\{.*\})$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(JSON.parse(m![1]!)).toEqual({
      event: "installed-os",
      hostname: hostname(),
      deployment: null,
      firmware,
      secureBoot: sb,
    });
  });

  it("names the deployment of the handoff", async () => {
    const state = join(work, "state-dep");
    await mkdir(state, { recursive: true });
    await writeFile(join(state, "report.env"), "BM_DEPLOYMENT_ID='DEP-\"1'\\''x'\n");
    const r = await execa("sh", [join(IMAGE_FILES_DIR, "bootmedia-installed-os")], {
      env: env(state, await fakeSysfs(join(work, "sys"), "bios", false)),
    });
    expect(JSON.parse(r.stdout.replace(/^BOOTMEDIA /, "")).deployment).toBe("DEP-\"1'x");
  });
});

interface Received {
  path: string;
  body: Buffer;
  signature: string;
  keySha: string;
}

describe("bootmedia-report", () => {
  let server: Server;
  let port = 0;
  let received: Received[] = [];
  /** What the server does with the next requests: answer, refuse, or drop the connection. */
  let mode: "accept" | "drop" | "refuse-log" = "accept";
  const state = () => join(work, "state-report");

  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (mode === "drop") return req.socket.destroy();
      const body = Buffer.concat(chunks);
      received.push({
        path: req.url ?? "",
        body,
        signature: String(req.headers["x-bootmedia-signature"] ?? ""),
        keySha: String(req.headers["x-bootmedia-report-key-sha256"] ?? ""),
      });
      const refuse = mode === "refuse-log" && req.url?.endsWith("/log");
      res.writeHead(refuse ? 403 : 200, { "Content-Type": "application/json" });
      res.end(refuse ? '{"result":"unknown-deployment","deploymentId":"DEP-1"}' : '{"result":"accepted","seq":1}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function handoff(): Promise<{ spkiSha: string; pub: string }> {
    const dir = state();
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, "queue"), { recursive: true });
    const key = execFileSync("sh", [
      "-c",
      "openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt",
    ]).toString();
    await writeFile(join(dir, "report.key"), key, { mode: 0o600 });
    const pub = join(work, "report.pub.pem");
    execFileSync("openssl", ["pkey", "-in", join(dir, "report.key"), "-pubout", "-out", pub]);
    const spkiSha = execFileSync("sh", ["-c", `openssl pkey -pubin -in ${pub} -outform DER | sha256sum`])
      .toString()
      .split(" ")[0]!;
    await writeFile(
      join(dir, "report.env"),
      [
        `BM_MP='http://127.0.0.1:${port}/'`,
        "BM_MAC='52:54:00:12:34:56'",
        "BM_DEPLOYMENT_ID='DEP-1'",
        "BM_RUN='5f0c2a9e41d7b368'",
        "BM_NEXT_SEQ='7'",
        "BM_STEP_COUNT='4'",
        "BM_COMPUTER='PC-1'",
        `BM_REPORT_KEY_SHA256='${spkiSha}'`,
        "",
      ].join("\n"),
    );
    for (const seq of [5, 6])
      await writeFile(
        join(dir, "queue", `00000${seq}.json`),
        `{"v":1,"mac":"52:54:00:12:34:56","deploymentId":"DEP-1","run":"5f0c2a9e41d7b368","seq":${seq},"step":4,"of":4,"name":"Restart","state":"${seq === 5 ? "start" : "success"}"}\n`,
      );
    await writeFile(join(dir, "log.pending"), "line 1\nline 2\n");
    return { spkiSha, pub };
  }

  const runReport = async () =>
    execa("sh", [join(IMAGE_FILES_DIR, "bootmedia-report")], {
      env: env(state(), await fakeSysfs(join(work, "sys"), "uefi", true)),
      reject: false,
    });

  it("retries later (exit 75) while the MP does not answer, then delivers events, deployed and log, each signed", async () => {
    const { spkiSha, pub } = await handoff();
    received = [];
    mode = "drop";
    const first = await runReport();
    expect(first.exitCode).toBe(75);
    expect(existsSync(join(state(), "delivered"))).toBe(false);
    expect((await readdir(join(state(), "queue"))).sort()).toEqual(["000005.json", "000006.json", "000007.json"]);

    mode = "accept";
    const second = await runReport();
    expect(second.exitCode, second.stderr).toBe(0);
    expect(received.map((r) => r.path)).toEqual([
      "/bootmedia/v1/status",
      "/bootmedia/v1/status",
      "/bootmedia/v1/status",
      "/bootmedia/v1/log",
    ]);
    const bodies = received.map((r) => JSON.parse(r.body.toString()));
    expect(bodies.map((b) => b.seq)).toEqual([5, 6, 7, undefined]);
    expect(bodies[2]).toMatchObject({
      v: 1,
      mac: "52:54:00:12:34:56",
      deploymentId: "DEP-1",
      run: "5f0c2a9e41d7b368",
      seq: 7,
      step: 0,
      of: 4,
      name: "Installed OS",
      state: "deployed",
      message: `${hostname()} booted from disk: uefi, Secure Boot on`,
    });
    // Keys in protocol order, timestamp and nonce last (docs/mp-protocol.md).
    expect(Object.keys(bodies[2]).slice(-2)).toEqual(["timestamp", "nonce"]);
    expect(bodies[2].nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(Buffer.from(bodies[3].log, "base64").toString()).toBe("line 1\nline 2\n");
    for (const [i, r] of received.entries()) {
      expect(r.keySha).toBe(spkiSha);
      const bodyFile = join(work, `body-${i}`);
      const sigFile = join(work, `sig-${i}`);
      await writeFile(bodyFile, r.body);
      await writeFile(sigFile, Buffer.from(r.signature, "base64"));
      const v = await execa("openssl", ["dgst", "-sha256", "-verify", pub, "-signature", sigFile, bodyFile], {
        reject: false,
      });
      expect(v.stdout.trim(), `request ${i}`).toBe("Verified OK");
    }
    expect(existsSync(join(state(), "delivered"))).toBe(true);
    expect(await readdir(join(state(), "queue"))).toEqual([]);

    received = [];
    expect((await runReport()).exitCode).toBe(0);
    expect(received).toEqual([]); // delivered: nothing more
  });

  it("keeps a refused log in refused/ and still finishes", async () => {
    await handoff();
    received = [];
    mode = "refuse-log";
    const r = await runReport();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("unknown-deployment");
    expect(existsSync(join(state(), "refused/log.pending"))).toBe(true);
    expect(await readFile(join(state(), "refused/log.pending.answer"), "utf8")).toContain("unknown-deployment");
  });
});
