/**
 * The content-addressed cache: one file per sha256, shared by every build. A file enters
 * the cache only after its bytes hashed to the expected value (temp file, verify, rename),
 * so the cache never holds a partial or unverified file.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BootmediaError } from "./errors.ts";

export function defaultCacheDir(): string {
  if (process.env.BOOTMEDIA_CACHE) return process.env.BOOTMEDIA_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "bootmedia");
}

export class ContentCache {
  constructor(readonly dir: string) {}

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.dir, "sha256", sha256.slice(0, 2), sha256);
  }

  async has(sha256: string, size: number): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).size === size;
    } catch {
      return false;
    }
  }

  /**
   * Streams `source` into the cache, hashing as bytes arrive. On a mismatch the bytes are
   * discarded and BM2004 names `label` (the file as the user knows it).
   */
  async put(source: Readable, expect: { sha256: string; size: number; label: string }, onBytes?: (n: number) => void): Promise<string> {
    const final = this.pathOf(expect.sha256);
    await mkdir(dirname(final), { recursive: true });
    const tmp = `${final}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const hash = createHash("sha256");
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        onBytes?.(chunk.length);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp));
      const got = hash.digest("hex");
      if (got !== expect.sha256 || size !== expect.size) {
        throw new BootmediaError(
          "BM2004",
          `hash mismatch for ${expect.label}: expected ${expect.size} bytes sha256 ${expect.sha256}, got ${size} bytes sha256 ${got}`,
          { where: expect.label },
        );
      }
      await rename(tmp, final);
      return final;
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
