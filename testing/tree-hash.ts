/** sha256 of every file under a folder, by relative path (tests compare trees with it). */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fg from "fast-glob";

export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of (await fg("**/*", { cwd: dir, dot: true, onlyFiles: true })).sort()) {
    out[rel] = createHash("sha256")
      .update(await readFile(join(dir, rel)))
      .digest("hex");
  }
  return out;
}
