/** A folder on disk as image-writer input (the `bootmedia image …` commands use it). */
import { lstatSync, readdirSync } from "node:fs";
import { BootmediaError } from "./errors.ts";
import type { TreeEntry } from "./tree.ts";
import "./codes.ts";

/**
 * Every folder and regular file under `dir` (dot files included, symbolic links and special
 * files left out), sorted by path. Synchronous: one lstat per entry, and a thread-pool round
 * trip each cost more than the call itself on trees of thousands of files.
 */
export async function treeFromDir(dir: string): Promise<TreeEntry[]> {
  const isDir = (() => { try { return lstatSync(dir).isDirectory(); } catch { return false; } })();
  if (!isDir) throw new BootmediaError("BM1009", `${dir} is not a folder`, { where: dir });
  const out: TreeEntry[] = [];
  const base = dir.endsWith("/") ? dir : `${dir}/`; // path.join per entry cost more than the lstat
  const walk = (rel: string) => {
    // Dirents come from lstat: a symbolic link to a folder is a link here, never followed.
    for (const d of readdirSync(base + rel, { withFileTypes: true })) {
      const path = rel + d.name;
      if (d.isDirectory()) {
        out.push({ type: "dir", path, mode: lstatSync(base + path).mode & 0o7777 });
        walk(`${path}/`);
      } else if (d.isFile()) {
        const st = lstatSync(base + path);
        out.push({ type: "file", path, size: st.size, source: { kind: "file", path: base + path }, mode: st.mode & 0o7777 });
      }
    }
  };
  walk("");
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}
