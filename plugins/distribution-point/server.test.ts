import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRange, serveLibrary, type LibraryServer } from "./server.ts";
import { patternBytes } from "./testing/library.ts";

let tmp: string;
let server: LibraryServer;
const data = patternBytes(100_000, "server");

/** curl is the independent client: status line, headers and body as it sees them. */
async function curl(path: string, ...args: string[]) {
  await rm(join(tmp, "body"), { force: true });
  const r = await execa(
    "curl",
    ["-s", "--path-as-is", "-D", "-", "-o", join(tmp, "body"), ...args, server.url.replace(/\/$/, "") + path],
    { reject: false },
  );
  const status = Number(/^HTTP\/[\d.]+ (\d+)/.exec(r.stdout)?.[1]);
  const header = (name: string) => new RegExp(`^${name}: (.*)\\r?$`, "im").exec(r.stdout)?.[1]?.trim();
  const body = await readFile(join(tmp, "body")).catch(() => Buffer.alloc(0));
  return { status, header, body };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "bm-dp-serve-"));
  await mkdir(join(tmp, "lib/packages/P1/files/dir"), { recursive: true });
  await writeFile(join(tmp, "lib/packages/P1/files/dir/data.bin"), data);
  await writeFile(join(tmp, "secret.txt"), "outside the library\n");
  await symlink(join(tmp, "secret.txt"), join(tmp, "lib/packages/P1/files/link.txt"));
  server = await serveLibrary({ root: join(tmp, "lib") });
});

afterAll(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

const FILE = "/packages/P1/files/dir/data.bin";

describe("dp serve (static library server), seen by curl", () => {
  it("listens on loopback only by default", () => {
    expect(new URL(server.url).hostname).toBe("127.0.0.1");
  });

  it("serves a file whole with its length, ETag and Last-Modified", async () => {
    const r = await curl(FILE);
    expect(r.status).toBe(200);
    expect(Buffer.compare(r.body, data)).toBe(0);
    expect(r.header("content-length")).toBe(String(data.length));
    expect(r.header("etag")).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(r.header("last-modified")).toMatch(/GMT$/);
    expect(r.header("accept-ranges")).toBe("bytes");
  });

  it("answers HEAD with the headers and no body", async () => {
    const r = await curl(FILE, "-I");
    expect(r.status).toBe(200);
    expect(r.header("content-length")).toBe(String(data.length));
  });

  it.each([
    ["100-199", 100, 199],
    ["99000-", 99000, 99999],
    ["-10", 99990, 99999],
    ["99990-200000", 99990, 99999],
  ])("serves the byte range %s as 206 with its Content-Range", async (range, start, end) => {
    const r = await curl(FILE, "-r", range);
    expect(r.status).toBe(206);
    expect(r.header("content-range")).toBe(`bytes ${start}-${end}/${data.length}`);
    expect(Buffer.compare(r.body, data.subarray(start, end + 1))).toBe(0);
  });

  it("answers 416 to a range past the end", async () => {
    const r = await curl(FILE, "-r", "100000-");
    expect(r.status).toBe(416);
    expect(r.header("content-range")).toBe(`bytes */${data.length}`);
  });

  it("ignores a range whose If-Range names another version (serves the whole file)", async () => {
    const r = await curl(FILE, "-r", "10-20", "-H", 'If-Range: "not-this-version"');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(data.length);
  });

  it.each([
    "/../secret.txt",
    "/packages/%2e%2e/%2e%2e/secret.txt",
    "/packages/P1/files/link.txt",
    "/packages/P1/files",
    "/packages/P1/files/dir/nope",
  ])("refuses %s with 404 (nothing outside the library, no listings)", async (path) => {
    const r = await curl(path);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toContain("outside the library");
  });

  it("refuses methods other than GET and HEAD", async () => {
    expect((await curl(FILE, "-X", "PUT")).status).toBe(405);
  });
});

describe("parseRange", () => {
  it("reads single ranges and ignores what it cannot serve as one range", () => {
    expect(parseRange("bytes=0-0", 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange("bytes=0-1,4-5", 10)).toBeUndefined();
    expect(parseRange("items=0-1", 10)).toBeUndefined();
    expect(parseRange("bytes=5-4", 10)).toBe("unsatisfiable");
    expect(parseRange("bytes=-0", 10)).toBe("unsatisfiable");
  });
});
