import { execFile } from "node:child_process";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContentCache } from "./cache.ts";
import { listCacheEntries, parseDuration, pruneCache, verifyCache } from "./cache-admin.ts";

const run = promisify(execFile);
let dir: string;
let cache: ContentCache;
const blobs = ["alpha\n", "beta\n", "gamma\n"].map((s) => ({
  data: Buffer.from(s),
  sha256: createHash("sha256").update(s).digest("hex"),
}));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bm-cache-admin-"));
  cache = new ContentCache(dir);
  for (const b of blobs)
    await cache.put(Readable.from([b.data]), { sha256: b.sha256, size: b.data.length, label: b.sha256 });
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe("cache housekeeping", () => {
  it("lists every entry with its size", async () => {
    const entries = await listCacheEntries(dir);
    expect(entries.map((e) => e.sha256).sort()).toEqual(blobs.map((b) => b.sha256).sort());
    expect(entries.every((e) => e.size === 6 || e.size === 5)).toBe(true);
  });

  it("verify removes exactly the corrupt entry; sha256sum agrees with what stays", async () => {
    await writeFile(cache.pathOf(blobs[0]!.sha256), "not alpha\n");
    const report = await verifyCache(dir);
    expect(report.checked).toBe(3);
    expect(report.removed.map((r) => r.sha256)).toEqual([blobs[0]!.sha256]);
    const left = await listCacheEntries(dir);
    const { stdout } = await run(
      "sha256sum",
      left.map((e) => e.path),
    );
    for (const line of stdout.trim().split("\n")) {
      const [sum, path] = line.split(/\s+/);
      expect(path!.endsWith(sum!)).toBe(true);
    }
  });

  it("prune removes entries unused for the given age and stale temp files, keeps the rest", async () => {
    const old = new Date(Date.now() - 31 * 86_400_000);
    await utimes(cache.pathOf(blobs[1]!.sha256), old, old);
    const temp = `${cache.pathOf(blobs[2]!.sha256)}.123.abcd.tmp`;
    await writeFile(temp, "partial");
    await utimes(temp, old, old);
    const report = await pruneCache(dir, parseDuration("30d"));
    expect(report.removed.map((e) => e.sha256)).toEqual([blobs[1]!.sha256]);
    expect(report.kept).toBe(1);
    expect(report.staleTemps).toBe(1);
    expect(report.bytesFreed).toBe(5);
  });

  it("parses durations and refuses what is not one", () => {
    expect(parseDuration("90m")).toBe(90 * 60_000);
    expect(parseDuration("2w")).toBe(14 * 86_400_000);
    expect(() => parseDuration("30 days")).toThrow(/not a duration/);
  });
});
