/**
 * `bootmedia dp serve` with an OS-image-sized file (2 GiB, sparse: no disk space), as its own
 * process and seen by curl: byte ranges near the end (what apply-image asks for when it
 * resumes), HEAD, 416, and a whole download that streams — the server's peak RSS stays far
 * below the file's size.
 */
import { createHash } from "node:crypto";
import { open, mkdir, mkdtemp, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../../testing/cli.ts";
import { patternBytes } from "./testing/library.ts";

const SIZE = 2 * 1024 ** 3;
const TAIL = patternBytes(1024 * 1024, "tail");
const PATH = "/packages/OSI00001/files/disk.raw";

let tmp = "";
let server: ResultPromise;
let url = "";

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "bm-dp-large-"));
  const folder = join(tmp, "lib/packages/OSI00001/files");
  await mkdir(folder, { recursive: true });
  // Sparse: a hole, then 1 MiB of known bytes at the very end.
  const fh = await open(join(folder, "disk.raw"), "w");
  await fh.write(TAIL, 0, TAIL.length, SIZE - TAIL.length);
  await fh.close();
  server = execa("node", [BIN, "dp", "serve", join(tmp, "lib"), "--port", "0", "--json", "--quiet"], {
    reject: false,
  });
  url = await new Promise<string>((resolve, reject) => {
    let text = "";
    server.stdout!.on("data", (d: Buffer) => {
      text += d.toString();
      const m = /"url": "([^"]+)"/.exec(text);
      if (m) resolve(m[1]!.replace(/\/$/, ""));
    });
    void server.then((r) => reject(new Error(`dp serve exited: ${String(r.stderr)}`)));
  });
}, 30_000);

afterAll(async () => {
  server?.kill("SIGTERM");
  await server?.catch(() => {});
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** curl: status, headers, and the body into a file. */
async function curl(...args: string[]) {
  const out = join(tmp, "body");
  await rm(out, { force: true });
  const r = await execa("curl", ["-sS", "-D", "-", "-o", out, ...args, url + PATH]);
  const header = (name: string) => new RegExp(`^${name}: (.*?)\\r?$`, "im").exec(r.stdout)?.[1];
  const status = Number(/^HTTP\/[\d.]+ (\d+)/.exec(r.stdout)?.[1]);
  let body = Buffer.alloc(0);
  try {
    body = readFileSync(out);
  } catch {
    /* no body (HEAD, 416) */
  }
  return { status, header, body };
}

/** Every byte the server sends until it closes the connection. */
function rawRequest(text: string): Promise<Buffer> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.end(text));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
  });
}

describe("dp serve with a 2 GiB file, seen by curl", () => {
  it("answers Range: bytes=N- near the end with 206, Content-Range and exactly the last bytes", async () => {
    const start = SIZE - 4096;
    const r = await curl("-r", `${start}-`);
    expect(r.status).toBe(206);
    expect(r.header("content-range")).toBe(`bytes ${start}-${SIZE - 1}/${SIZE}`);
    expect(r.header("content-length")).toBe("4096");
    expect(r.body.equals(TAIL.subarray(TAIL.length - 4096))).toBe(true);
  });

  it("answers bytes=N-M across the hole's end with exactly those bytes (zeros, then the tail)", async () => {
    const start = SIZE - TAIL.length - 100;
    const end = SIZE - TAIL.length + 99;
    const r = await curl("-r", `${start}-${end}`);
    expect(r.status).toBe(206);
    expect(r.header("content-range")).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(r.body.equals(Buffer.concat([Buffer.alloc(100), TAIL.subarray(0, 100)]))).toBe(true);
  });

  it("answers HEAD (with and without a range) with the headers and no body", async () => {
    const whole = await curl("-I");
    expect([whole.status, whole.header("content-length"), whole.header("accept-ranges")]).toEqual([
      200,
      String(SIZE),
      "bytes",
    ]);
    const part = await curl("-I", "-r", `${SIZE - 10}-`);
    expect([part.status, part.header("content-range"), part.header("content-length")]).toEqual([
      206,
      `bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`,
      "10",
    ]);
    // curl -I never reads a body: the raw bytes on the wire show none follows the headers.
    const raw = await rawRequest(
      `HEAD ${PATH} HTTP/1.1\r\nHost: x\r\nRange: bytes=${SIZE - 10}-\r\nConnection: close\r\n\r\n`,
    );
    expect(raw.subarray(raw.indexOf("\r\n\r\n") + 4).length).toBe(0);
  });

  it("answers a range starting at the size with 416 and bytes */size", async () => {
    const r = await execa("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-r", `${SIZE}-`, url + PATH]);
    expect(r.stdout).toBe("416");
    const h = await curl("-r", `${SIZE}-`);
    expect(h.header("content-range")).toBe(`bytes */${SIZE}`);
  });

  it("streams the whole file: curl gets 2 GiB with the right tail, the server's peak RSS stays under 200 MiB", async () => {
    const r = await execa("sh", [
      "-c",
      `curl -sS -w '%{stderr}%{size_download}' '${url}${PATH}' | tail -c ${TAIL.length} | sha256sum | cut -d ' ' -f 1`,
    ]);
    expect(Number(r.stderr)).toBe(SIZE);
    expect(r.stdout).toBe(createHash("sha256").update(TAIL).digest("hex"));
    const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
    const peakMiB = Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024;
    expect(peakMiB).toBeLessThan(200);
  }, 180_000);
});
