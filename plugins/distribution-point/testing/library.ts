/** Scratch content libraries for tests and the benchmark: fixtures/content plus generated files. */
import { createHash } from "node:crypto";
import { cp, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { refreshManifest } from "../../../scripts/package-manifest.ts";
import { ROOT } from "../../../testing/cli.ts";

export const SAMPLE_BOOT_IMAGE = "BM100001";
export const SAMPLE_TASK_SEQUENCE = "BM200010";

/** Deterministic pseudo-random bytes (sha256 in counter mode): incompressible, reproducible. */
export function patternBytes(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  for (let off = 0, i = 0; off < size; i++) {
    const block = createHash("sha256").update(`${seed}:${i}`).digest();
    off += block.copy(out, off);
  }
  return out;
}

/**
 * Copies the sample library to `dir` and adds `extra` files (media path → bytes) to the
 * sample boot image, rewriting its manifest; returns the library folder.
 */
export async function makeLibrary(dir: string, extra: Record<string, Buffer> = {}): Promise<string> {
  await cp(join(ROOT, "fixtures/content"), dir, { recursive: true });
  const pkg = join(dir, "packages", SAMPLE_BOOT_IMAGE);
  for (const [path, data] of Object.entries(extra)) {
    const file = join(pkg, "files", path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data);
  }
  await refreshManifest(pkg);
  return dir;
}
