/**
 * The fault proxy in front of the real `dp serve` server, seen by curl: a drop once after N
 * bytes (curl gets exactly N, then resumes with `-C -` through the same proxy and ends with the
 * file's sha256), later requests passed unchanged, and the byte count per path agreeing with
 * what curl says it downloaded.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveLibrary, type LibraryServer } from "../server.ts";
import { startFaultProxy, type FaultProxy } from "./fault-proxy.ts";
import { patternBytes } from "./library.ts";

const DATA = patternBytes(6 * 1024 * 1024 + 123, "fault-proxy");
const PATH = "/packages/OSI00001/files/disk.raw.zst";
const OTHER = "/packages/OSI00001/package.json";
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let tmp = "";
let dp: LibraryServer;
let proxy: FaultProxy;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "bm-fault-proxy-"));
  await mkdir(join(tmp, "lib/packages/OSI00001/files"), { recursive: true });
  await writeFile(join(tmp, "lib", PATH), DATA);
  await writeFile(join(tmp, "lib", OTHER), '{"id":"OSI00001"}\n');
  dp = await serveLibrary({ root: join(tmp, "lib") });
  proxy = await startFaultProxy({ target: dp.url });
});
afterAll(async () => {
  await proxy?.close();
  await dp?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** curl into `file`: its exit code and what it says it downloaded. */
async function curl(file: string, ...args: string[]) {
  const r = await execa("curl", ["-sS", "-o", file, "-w", "%{http_code} %{size_download}", ...args], {
    reject: false,
  });
  const [status, size] = r.stdout.split(" ");
  return { exitCode: r.exitCode, status: Number(status), size: Number(size) };
}

describe("fault proxy in front of dp serve, seen by curl", () => {
  it("drops once after N body bytes; curl resumes with a Range through it and ends with the whole file", async () => {
    const cut = 2 * 1024 * 1024 + 7;
    proxy.dropOnce(PATH, cut);
    const file = join(tmp, "download");
    const first = await curl(file, proxy.url.replace(/\/$/, "") + PATH);
    // curl: exit 18, "transfer closed with … bytes remaining" — exactly the bytes up to the cut arrived.
    expect([first.exitCode, first.status, first.size]).toEqual([18, 200, cut]);
    expect((await stat(file)).size).toBe(cut);
    const resumed = await curl(file, "-C", "-", proxy.url.replace(/\/$/, "") + PATH);
    expect([resumed.exitCode, resumed.status, resumed.size]).toEqual([0, 206, DATA.length - cut]);
    expect(sha256(await readFile(file))).toBe(sha256(DATA));
    expect(proxy.requests.filter((r) => r.path === PATH)).toEqual([
      { method: "GET", path: PATH, status: 200, bytes: cut, dropped: true },
      { method: "GET", path: PATH, range: `bytes=${cut}-`, status: 206, bytes: DATA.length - cut, dropped: false },
    ]);
    // The bytes a resumed deploy moved: the image once, nothing sent twice.
    expect(proxy.bytesSent(PATH)).toBe(first.size + resumed.size);
    expect(proxy.bytesSent(PATH)).toBeLessThanOrEqual(1.1 * DATA.length);
  });

  it("passes later requests unchanged: a whole GET, a HEAD, another path, a 404", async () => {
    const before = proxy.bytesSent(PATH);
    const whole = await curl(join(tmp, "again"), proxy.url.replace(/\/$/, "") + PATH);
    expect([whole.exitCode, whole.status, whole.size]).toEqual([0, 200, DATA.length]);
    expect(sha256(await readFile(join(tmp, "again")))).toBe(sha256(DATA));
    expect(proxy.bytesSent(PATH)).toBe(before + DATA.length);
    const head = await execa("curl", ["-sS", "-I", proxy.url.replace(/\/$/, "") + PATH]);
    expect(head.stdout).toMatch(new RegExp(`^content-length: ${DATA.length}\\r?$`, "im"));
    expect(head.stdout).toMatch(/^accept-ranges: bytes\r?$/im);
    const other = await curl(join(tmp, "other"), proxy.url.replace(/\/$/, "") + OTHER);
    expect([other.status, await readFile(join(tmp, "other"), "utf8")]).toEqual([200, '{"id":"OSI00001"}\n']);
    const missing = await curl(join(tmp, "missing"), `${proxy.url}packages/NOPE/files/x`);
    expect(missing.status).toBe(404);
  });

  it("a drop armed for one path leaves others alone, and waits for a response that reaches the mark", async () => {
    proxy.dropOnce(PATH, 1000);
    // A short range (10 bytes) never reaches byte 1000 of its body: served whole, the drop stays armed.
    const short = await curl(join(tmp, "short"), "-r", "0-9", proxy.url.replace(/\/$/, "") + PATH);
    expect([short.exitCode, short.status, short.size]).toEqual([0, 206, 10]);
    const other = await curl(join(tmp, "other2"), proxy.url.replace(/\/$/, "") + OTHER);
    expect(other.exitCode).toBe(0);
    const cut = await curl(join(tmp, "cut"), "-r", "100-", proxy.url.replace(/\/$/, "") + PATH);
    expect([cut.exitCode, cut.status, cut.size]).toEqual([18, 206, 1000]);
    expect(proxy.requests.at(-1)).toMatchObject({ range: "bytes=100-", dropped: true, bytes: 1000 });
  });

  it("answers 502 when the DP is gone", async () => {
    const lonely = await startFaultProxy({ target: "http://127.0.0.1:1/" });
    try {
      const r = await curl(join(tmp, "none"), `${lonely.url}x`);
      expect(r.status).toBe(502);
      expect(lonely.requests).toEqual([{ method: "GET", path: "/x", status: 502, bytes: 0, dropped: false }]);
    } finally {
      await lonely.close();
    }
  });
});
