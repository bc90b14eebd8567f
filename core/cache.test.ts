import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { execa } from "execa";
import { ContentCache } from "./cache.ts";
import { pruneCache } from "./cache-admin.ts";
import { isBootmediaError } from "../base/errors.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "bm-cache-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** sha256sum (coreutils) is the oracle: the cache's worker-thread hashing must agree with it. */
async function sha256sum(data: Buffer): Promise<string> {
  const f = join(dir, `oracle-${randomBytes(4).toString("hex")}`);
  await writeFile(f, data);
  const { stdout } = await execa("sha256sum", [f]);
  await rm(f);
  return stdout.split(" ")[0];
}

/** Uneven chunks, so bytes straddle the 1 MiB block boundaries. */
function chunked(data: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) parts.push(data.subarray(at, at + size));
  return Readable.from(parts);
}

const leftovers = async () => (await readdir(dir, { recursive: true })).filter((n) => String(n).endsWith(".tmp"));

describe("ContentCache.put", () => {
  it("stores bytes whose sha256 matches sha256sum, for sizes around the block size", async () => {
    const cache = new ContentCache(join(dir, "c"));
    for (const size of [0, 1, 1024 * 1024 - 1, 1024 * 1024, 3 * 1024 * 1024 + 17]) {
      const data = randomBytes(size);
      const sha256 = await sha256sum(data);
      let counted = 0;
      const path = await cache.put(chunked(data, 65_537), { sha256, size, label: `f${size}` }, (n) => (counted += n));
      expect(path).toBe(cache.pathOf(sha256));
      expect((await readFile(path)).equals(data)).toBe(true);
      expect(counted).toBe(size);
    }
    expect(await leftovers()).toEqual([]);
  });

  it("verifies many downloads at once (blocks of different files never mix)", async () => {
    const cache = new ContentCache(join(dir, "c"));
    const files = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const data = randomBytes(2 * 1024 * 1024 + i * 1000);
        return { data, sha256: await sha256sum(data) };
      }),
    );
    const paths = await Promise.all(
      files.map((f, i) =>
        cache.put(chunked(f.data, 40_000 + i), { sha256: f.sha256, size: f.data.length, label: `f${i}` }),
      ),
    );
    for (const [i, p] of paths.entries()) expect((await readFile(p)).equals(files[i].data)).toBe(true);
  });

  it("refuses bytes that do not hash as expected with BM2004 and keeps nothing", async () => {
    const cache = new ContentCache(join(dir, "c"));
    const data = randomBytes(1_500_000);
    const sha256 = await sha256sum(data);
    const bad = Buffer.from(data);
    bad[1_200_000] ^= 1;
    const err = await cache
      .put(chunked(bad, 65_536), { sha256, size: data.length, label: "pkg/file.wim" })
      .catch((e) => e);
    expect(isBootmediaError(err) && err.code).toBe("BM2004");
    expect(String(err.message)).toContain("pkg/file.wim");
    expect(await cache.has(sha256, data.length)).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it("refuses a short download with BM2004", async () => {
    const cache = new ContentCache(join(dir, "c"));
    const data = randomBytes(100_000);
    const sha256 = await sha256sum(data);
    const err = await cache
      .put(chunked(data.subarray(0, 99_999), 4096), { sha256, size: data.length, label: "short" })
      .catch((e) => e);
    expect(isBootmediaError(err) && err.code).toBe("BM2004");
  });

  it("passes a source error through and removes the temp file", async () => {
    const cache = new ContentCache(join(dir, "c"));
    async function* failing() {
      yield randomBytes(2 * 1024 * 1024);
      throw new Error("connection reset by test");
    }
    const err = await cache
      .put(Readable.from(failing()), { sha256: "0".repeat(64), size: 3 * 1024 * 1024, label: "x" })
      .catch((e) => e);
    expect(String(err.message)).toContain("connection reset by test");
    expect(await leftovers()).toEqual([]);
    // The cache still works after an abandoned download.
    const ok = randomBytes(10);
    await cache.put(Readable.from([ok]), { sha256: await sha256sum(ok), size: 10, label: "ok" });
  });
});

describe("ContentCache.has", () => {
  it("marks a hit as used now, so `cache prune` keeps what builds still use", async () => {
    const cache = new ContentCache(join(dir, "c"));
    const data = randomBytes(1000);
    const sha256 = await sha256sum(data);
    const path = await cache.put(Readable.from([data]), { sha256, size: 1000, label: "x" });
    const longAgo = new Date(Date.now() - 90 * 86_400_000);
    await utimes(path, longAgo, longAgo);
    expect(await cache.has(sha256, 999)).toBe(false); // wrong size: no hit, no touch
    expect((await stat(path)).mtimeMs).toBeLessThan(Date.now() - 80 * 86_400_000);
    expect(await cache.has(sha256, 1000)).toBe(true);
    expect((await stat(path)).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    const report = await pruneCache(join(dir, "c"), 30 * 86_400_000);
    expect(report.removed).toEqual([]);
  });
});
