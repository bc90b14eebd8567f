/** `bootmedia mp serve` and `mp status` as processes, the way users run them. */
import { rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { generateKeyPairSync } from "node:crypto";
import { askManagementPoint, describeReportKey, newRunId, postStatus } from "../../backends/mp/client.ts";
import { readJournal } from "../../backends/mp/journal.ts";
import {
  MAC,
  makeMedia,
  makeMediaCert,
  makeSite,
  makeTempDir,
  type MediaCert,
} from "../../backends/mp/testing/fixtures.ts";
import { bootmedia } from "../../testing/cli.ts";
import { ServeProcess } from "../../backends/mp/testing/serve-process.ts";
import { freeLoopbackPort } from "../../base/free-port.ts";

let dir = "";
let cert: MediaCert;
let siteFile = "";
const now = () => Math.floor(Date.now() / 1000);

beforeAll(() => {
  dir = makeTempDir("bm-mp-cli-");
  cert = makeMediaCert(dir);
  siteFile = join(dir, "site.yaml");
  writeFileSync(siteFile, stringify(makeSite(cert.der)));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function waitForText(serve: ServeProcess, re: RegExp, ms = 20_000): Promise<RegExpExecArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = re.exec(serve.out);
    if (m) return m;
    if (Date.now() > end || serve.proc.exitCode !== null) throw new Error(`no ${re} in:\n${serve.out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("bootmedia mp serve", () => {
  it("listens where --listen says, serves the site file, logs requests as JSON lines, reloads on SIGHUP", async () => {
    const port = await freeLoopbackPort();
    const serve = new ServeProcess(["--site", siteFile, "--listen", `127.0.0.1:${port}`, "--json"]);
    try {
      const url = await serve.url();
      expect(url).toBe(`http://127.0.0.1:${port}`);
      const policy = await askManagementPoint(url, makeMedia(url), { mac: MAC }, cert.creds, now());
      expect(policy.answer).toMatchObject({ result: "policy", stepCount: 3 });
      await serve.waitFor((l) => l.event === "request" && l.result === "policy");

      // A bad steps file: coded error in the log, the old site keeps serving.
      const bad = makeSite(cert.der, {
        taskSequences: [{ id: "TS-1", name: "x", steps: [{ name: "A", type: "reboot-now" }] }],
      });
      writeFileSync(siteFile, stringify(bad));
      serve.proc.kill("SIGHUP");
      const failed = await serve.waitFor((l) => l.event === "reload");
      expect(failed).toMatchObject({ ok: false, error: { code: "BM2401" } });
      expect(String((failed.error as { message: string }).message)).toMatch(/task sequence TS-1: steps\[0\] \("A"\)/);
      const still = await askManagementPoint(url, makeMedia(url), { mac: MAC }, cert.creds, now());
      expect(still.answer).toMatchObject({ result: "policy", stepCount: 3 });

      // A good new file: the next answer comes from it.
      writeFileSync(
        siteFile,
        stringify(
          makeSite(cert.der, {
            taskSequences: [{ id: "TS-1", name: "x", steps: [{ name: "A", type: "run-command", command: "true" }] }],
          }),
        ),
      );
      serve.proc.kill("SIGHUP");
      await serve.waitFor((l) => l.event === "reload" && l.ok === true);
      const fresh = await askManagementPoint(url, makeMedia(url), { mac: MAC }, cert.creds, now());
      expect(fresh.answer).toMatchObject({ result: "policy", stepCount: 1 });
    } finally {
      writeFileSync(siteFile, stringify(makeSite(cert.der)));
      serve.proc.kill("SIGTERM");
      await serve.proc;
    }
  }, 60_000);

  it("--watch reloads when the site file changes; the text log names each request and the reload", async () => {
    const watched = join(dir, "watched.yaml");
    writeFileSync(watched, stringify(makeSite(cert.der)));
    const serve = new ServeProcess(["--site", watched, "--listen", "127.0.0.1:0", "--watch"]);
    try {
      const m = await waitForText(serve, /serving .* at (http:\/\/127\.0\.0\.1:\d+),/);
      const url = m[1]!;
      await askManagementPoint(url, makeMedia(url), { mac: MAC }, cert.creds, now());
      await waitForText(serve, new RegExp(`POST /bootmedia/v1/policy 200 policy ${MAC} DEP-1 [\\d.]+ ms`));
      const one = [{ name: "A", type: "run-command", command: "true" }];
      writeFileSync(watched, stringify(makeSite(cert.der, { taskSequences: [{ id: "TS-1", name: "x", steps: one }] })));
      await waitForText(serve, /reloaded .*watched\.yaml \(file changed\): 1 task sequence\(s\) with steps/);
      const fresh = await askManagementPoint(url, makeMedia(url), { mac: MAC }, cert.creds, now());
      expect(fresh.answer).toMatchObject({ result: "policy", stepCount: 1 });
    } finally {
      serve.proc.kill("SIGTERM");
    }
    // SIGTERM is how a server stops: exit 0, no "interrupted build" message.
    const end = await serve.proc;
    expect([end.exitCode, String(end.stderr)]).toEqual([0, ""]);
    expect(serve.out).toMatch(/mp MP1 stopped \(SIGTERM\)\n$/);
  }, 60_000);

  it("kill -9 in the middle of a stream of events: restarted on the same state dir, every accepted event is there once", async () => {
    const stateDir = join(dir, "state-kill");
    const port = await freeLoopbackPort();
    const args = ["--site", siteFile, "--listen", `127.0.0.1:${port}`, "--json", "--state-dir", stateDir];
    const first = new ServeProcess(args);
    const url = await first.url();
    await askManagementPoint(url, makeMedia(url), { mac: MAC }, cert.creds, now());
    const accepted = new Set<number>();
    const run = newRunId();
    const post = async (seq: number) => {
      const ev = { mac: MAC, deploymentId: "DEP-1", run, seq, step: 1, of: 3, name: "s", state: "progress" as const };
      const c = await postStatus(url, ev, cert.creds, now());
      if (c.answer?.result === "accepted" || c.answer?.result === "duplicate") accepted.add(seq);
      return c;
    };
    // 40 posts in flight, SIGKILL when some were answered.
    const stream = Promise.all(Array.from({ length: 40 }, (_, i) => post(i + 1)));
    await first.waitFor((l) => l.event === "request" && l.result === "accepted");
    first.proc.kill("SIGKILL");
    await stream;
    await first.proc;

    const second = new ServeProcess(args);
    await second.url();
    for (let seq = 1; seq <= 40; seq++) expect((await post(seq)).answer?.result).toMatch(/^(accepted|duplicate)$/);
    second.proc.kill("SIGTERM");
    await second.proc;
    const { records } = await readJournal(join(stateDir, "journal.jsonl"));
    const seqs = (records as Array<{ t: string; event?: { seq: number } }>)
      .filter((r) => r.t === "status")
      .map((r) => r.event!.seq)
      .sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

    const table = await bootmedia(["mp", "status", "--state-dir", stateDir]);
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^COMPUTER +MAC +DEPLOYMENT +STEP +STATE +FAILURES +LAST CONTACT$/m);
    expect(table.stdout).toMatch(new RegExp(`^Unknown +${MAC} +DEP-1 +1/3 +running +0 +\\d{4}-`, "m"));
    const json = await bootmedia(["mp", "status", "--state-dir", stateDir, "--json"]);
    expect(JSON.parse(json.stdout).computers).toMatchObject([
      {
        computer: "Unknown",
        mac: MAC,
        deploymentId: "DEP-1",
        run,
        step: 1,
        stepCount: 3,
        state: "running",
        events: 40,
      },
    ]);
  }, 90_000);

  it("kill -9 right after a policy given with a report key: restarted, the key still signs the installed OS's deployed event; mp status shows it", async () => {
    const stateDir = join(dir, "state-report-key");
    const port = await freeLoopbackPort();
    const args = ["--site", siteFile, "--listen", `127.0.0.1:${port}`, "--json", "--state-dir", stateDir];
    const first = new ServeProcess(args);
    const url = await first.url();
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const reportKey = describeReportKey(privateKey).spki;
    const policy = await askManagementPoint(url, makeMedia(url), { mac: MAC, reportKey }, cert.creds, now());
    expect(policy.answer?.result).toBe("policy");
    const run = newRunId();
    const ev = { mac: MAC, deploymentId: "DEP-1", run, of: 3, name: "Task sequence" };
    await postStatus(url, { ...ev, seq: 1, step: 3, state: "success" }, cert.creds, now());
    await postStatus(url, { ...ev, seq: 2, step: 0, state: "success" }, cert.creds, now());
    first.proc.kill("SIGKILL");
    await first.proc;

    const second = new ServeProcess(args);
    await second.url();
    const message = "PC-1 booted from disk: uefi, Secure Boot on";
    const deployed = await postStatus(
      url,
      { ...ev, seq: 3, step: 0, name: "Installed OS", state: "deployed", message },
      { reportKey: privateKey },
      now(),
    );
    expect(deployed.answer).toEqual({ result: "accepted", seq: 3 });
    second.proc.kill("SIGTERM");
    await second.proc;

    const table = await bootmedia(["mp", "status", "--state-dir", stateDir]);
    expect(table.stdout).toMatch(new RegExp(`^Unknown +${MAC} +DEP-1 +3/3 +deployed +0 +\\d{4}-`, "m"));
    const json = JSON.parse((await bootmedia(["mp", "status", "--state-dir", stateDir, "--json"])).stdout);
    expect(json.computers).toMatchObject([
      { mac: MAC, state: "deployed", deployed: { time: expect.stringMatching(/^\d{4}-.*Z$/), message } },
    ]);
  }, 90_000);

  it.each([
    ["port in use", "BM5306", () => ["--listen", `127.0.0.1:${busyPort}`]],
    ["an unreadable site file", "BM5308", () => ["--site", join(dir, "missing.yaml")], true],
    ["a state dir under a file", "BM5309", () => ["--state-dir", join(siteFile, "state")]],
    ["a TLS key of another certificate", "BM5307", () => tlsArgs(true)],
    ["an unreadable TLS key", "BM5304", () => tlsArgs(false)],
  ])(
    "refuses %s with %s, exit 1",
    async (_what, code, extra, ownSite = false) => {
      const site = ownSite ? [] : ["--site", siteFile];
      const args = extra();
      const listen = args.includes("--listen") ? [] : ["--listen", "127.0.0.1:0"];
      const r = await bootmedia(["mp", "serve", ...site, ...listen, ...args]);
      expect(r.exitCode, r.stdout).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${code}[\\s\\S]*hint`));
    },
    30_000,
  );
});

let busyPort = 0;
const busy = createServer();
beforeAll(async () => {
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => busy.close());

function tlsArgs(readable: boolean): string[] {
  const other = makeMediaCert(dir, "other");
  return [
    "--tls-cert",
    cert.certPath,
    "--tls-key",
    readable ? other.keyPath : join(dir, "nope.key"),
    "--client-ca",
    cert.certPath,
  ];
}

describe("bootmedia mp status", () => {
  it("says so when no computer has asked yet, and needs --state-dir", async () => {
    const empty = makeTempDir("bm-mp-empty-");
    const r = await bootmedia(["mp", "status", "--state-dir", empty]);
    expect([r.exitCode, r.stdout]).toEqual([0, `no computer has asked the MP of ${empty} for a deployment yet`]);
    expect((await bootmedia(["mp", "status"])).exitCode).toBe(2);
    rmSync(empty, { recursive: true });
  });
});
