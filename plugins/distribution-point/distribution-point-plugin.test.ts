import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashTree } from "../../testing/tree-hash.ts";
import { BootmediaError } from "../../base/errors.ts";
import { sha256File } from "../../core/content/manifest.ts";
import { buildFrom } from "./testing/harness.ts";
import { compose, corrupt, dropAfter, endsWith, failWith, stallAfter, throttle } from "./testing/faults.ts";
import { serveLibrary, type Intercept, type LibraryServer } from "./server.ts";
import { makeLibrary, patternBytes, SAMPLE_BOOT_IMAGE } from "./testing/library.ts";

const run = promisify(execFile);
const BIG = "data/big.bin";
const BIG_SIZE = 3 * 1024 * 1024 + 123;
const FAST = { retry: { tries: 4, backoffMs: 20, idleTimeoutMs: 400 } };

let tmp: string;
let library: string;
let reference: Record<string, string>;
let n = 0;
const servers: LibraryServer[] = [];

/** A DP on loopback serving the scratch library, with optional faults; requests are logged. */
async function dp(intercept?: Intercept) {
  const requests: string[] = [];
  const server = await serveLibrary({ root: library, intercept, log: (l) => requests.push(l) });
  servers.push(server);
  return { server, requests };
}

/** A fresh output and cache per build, so every build really downloads. */
const fresh = () => {
  n++;
  return { out: join(tmp, `out${n}`), cache: join(tmp, `cache${n}`), dir: tmp, dp: FAST };
};

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "bm-dp-"));
  library = await makeLibrary(join(tmp, "library"), {
    [BIG]: patternBytes(BIG_SIZE, "big"),
    "data/small.txt": Buffer.from("small\n"),
  });
  const local = await buildFrom(library, fresh());
  expect(local.error).toBeUndefined();
  reference = await hashTree(local.result!.outputs[0]!.path);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(tmp, { recursive: true, force: true });
});

/** The source file and the cached copy are the same bytes, per cmp(1). */
async function expectCachedIntact(cache: string) {
  const sha = await sha256File(join(library, "packages", SAMPLE_BOOT_IMAGE, "files", BIG));
  await run("cmp", [
    join(library, "packages", SAMPLE_BOOT_IMAGE, "files", BIG),
    join(cache, "sha256", sha.slice(0, 2), sha),
  ]);
}

describe("DistributionPointPlugin over loopback HTTP", () => {
  it("builds media byte-identical to the same library used as a local folder", async () => {
    const { server, requests } = await dp();
    const b = await buildFrom(server.url, fresh());
    expect(b.error).toBeUndefined();
    expect(await hashTree(b.result!.outputs[0]!.path)).toEqual(reference);
    expect(reference[BIG]).toBeDefined();
    expect(
      requests.some((r) => r.startsWith(`GET /packages/${SAMPLE_BOOT_IMAGE}/files/data/big.bin 200 ${BIG_SIZE}`)),
    ).toBe(true);
    expect(b.result!.fetch.bytesFetched).toBeGreaterThan(BIG_SIZE);
  });

  it("resumes with a Range request after the connection drops mid-file", async () => {
    const { server, requests } = await dp(dropAfter(1024 * 1024, endsWith(BIG)));
    const opts = fresh();
    const b = await buildFrom(server.url, opts);
    expect(b.error).toBeUndefined();
    expect(requests.filter((r) => r.includes("big.bin 206"))).toHaveLength(1);
    expect(b.warnings.join("\n")).toContain("resuming at byte 1048576");
    // The DP's own count: the cut response's bytes up to the cut, then the rest once.
    const big = requests.filter((r) => r.includes("big.bin"));
    expect(big[0]).toBe(`GET /packages/${SAMPLE_BOOT_IMAGE}/files/data/big.bin 200 1048576 cut`);
    expect(big.reduce((n, l) => n + Number(l.split(" ")[3]), 0)).toBe(BIG_SIZE);
    await expectCachedIntact(opts.cache);
    expect(await hashTree(b.result!.outputs[0]!.path)).toEqual(reference);
  });

  it("resumes after a stalled connection hits the idle timeout, and completes from a slow server", async () => {
    const { server } = await dp(
      compose(stallAfter(256 * 1024, endsWith(BIG)), throttle(8 * 1024 * 1024, endsWith(BIG))),
    );
    const opts = fresh();
    const b = await buildFrom(server.url, opts);
    expect(b.error).toBeUndefined();
    expect(b.warnings.join("\n")).toMatch(/ETIMEDOUT.*resuming at byte 262144/);
    await expectCachedIntact(opts.cache);
  });

  it("retries 5xx with backoff, then succeeds", async () => {
    const { server, requests } = await dp(failWith(503, endsWith(BIG), 2));
    const b = await buildFrom(server.url, fresh());
    expect(b.error).toBeUndefined();
    expect(requests.filter((r) => r.includes("big.bin 503"))).toHaveLength(2);
    expect(b.warnings.filter((w) => w.includes("HTTP 503"))).toHaveLength(2);
  });

  it("gives up after a bounded number of tries on a DP that always answers 500", async () => {
    const { server, requests } = await dp(failWith(500, endsWith(BIG)));
    const b = await buildFrom(server.url, fresh());
    expect((b.error as BootmediaError).code).toBe("BM2101");
    expect((b.error as Error).message).toContain("HTTP 500");
    expect(requests.filter((r) => r.includes("big.bin 500"))).toHaveLength(4);
  });

  it("fails with BM2004 on wrong bytes and caches nothing", async () => {
    const { server } = await dp(corrupt(endsWith(BIG)));
    const opts = fresh();
    const b = await buildFrom(server.url, opts);
    expect((b.error as BootmediaError).code).toBe("BM2004");
    expect((b.error as Error).message).toContain(`${SAMPLE_BOOT_IMAGE}/${BIG}`);
    const sha = await sha256File(join(library, "packages", SAMPLE_BOOT_IMAGE, "files", BIG));
    const shard = await readdir(join(opts.cache, "sha256", sha.slice(0, 2))).catch(() => []);
    expect(shard.filter((f) => f.startsWith(sha))).toEqual([]);
  });

  it("reports 403 as no read access to the content library, naming the DP", async () => {
    const { server } = await dp(failWith(403, () => true));
    const b = await buildFrom(server.url, fresh());
    expect((b.error as BootmediaError).code).toBe("BM2102");
    expect((b.error as Error).message).toContain(
      `no read access to the content library on ${new URL(server.url).host}`,
    );
    expect((b.error as BootmediaError).hint).toMatch(/Read access/);
  });

  it("falls back to the second DP when the first is down, for resolve and fetch", async () => {
    const dead = await serveLibrary({ root: library });
    await dead.close(); // a port that refuses connections
    const { server, requests } = await dp();
    const b = await buildFrom([dead.url, server.url], fresh());
    expect(b.error).toBeUndefined();
    expect(b.warnings.join("\n")).toContain(`distribution point ${dead.url} looks down`);
    expect(requests.some((r) => r.includes("package.json 200"))).toBe(true);
    expect(requests.some((r) => r.includes("big.bin 200"))).toBe(true);
  });

  it("lists every DP tried when all are down", async () => {
    const a = await serveLibrary({ root: library });
    const c = await serveLibrary({ root: library });
    await a.close();
    await c.close();
    const b = await buildFrom([a.url, c.url], fresh());
    expect((b.error as BootmediaError).code).toBe("BM2101");
    expect((b.error as Error).message).toContain(a.url);
    expect((b.error as Error).message).toContain(c.url);
    expect((b.error as Error).message).toContain("ECONNREFUSED");
  });

  it("names the package and file on a 404", async () => {
    const { server } = await dp(failWith(404, endsWith("small.txt")));
    const b = await buildFrom(server.url, fresh());
    expect((b.error as BootmediaError).code).toBe("BM2005");
    expect((b.error as Error).message).toContain(`package ${SAMPLE_BOOT_IMAGE} lists data/small.txt`);
  });

  it("refuses a manifest path that escapes the package (BM2006), served over HTTP", async () => {
    const evil = await makeLibrary(join(tmp, "evil"));
    const manifest = join(evil, "packages", SAMPLE_BOOT_IMAGE, "package.json");
    const json = JSON.parse(await readFile(manifest, "utf8"));
    json.files.push({ path: "../../../etc/passwd", size: 1, sha256: "0".repeat(64) });
    await writeFile(manifest, JSON.stringify(json));
    const server = await serveLibrary({ root: evil });
    servers.push(server);
    const b = await buildFrom(server.url, fresh());
    expect((b.error as BootmediaError).code).toBe("BM2006");
  });
});
