/** A folder on disk as image-writer input (the `bootmedia image …` commands use it). */
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import fg from "fast-glob";
import { BootmediaError } from "./errors.ts";
import type { TreeEntry } from "../formats/tree.ts";

export async function treeFromDir(dir: string): Promise<TreeEntry[]> {
  const isDir = await lstat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new BootmediaError("BM1009", `${dir} is not a folder`, { where: dir });
  const names = (await fg("**/*", { cwd: dir, dot: true, onlyFiles: false, markDirectories: true, followSymbolicLinks: false })).sort();
  const out: TreeEntry[] = [];
  for (const name of names) {
    const rel = name.replace(/\/$/, "");
    const st = await lstat(join(dir, rel));
    if (st.isDirectory()) out.push({ type: "dir", path: rel, mode: st.mode & 0o7777 });
    else if (st.isFile()) out.push({ type: "file", path: rel, size: st.size, source: { kind: "file", path: join(dir, rel) }, mode: st.mode & 0o7777 });
  }
  return out;
}
