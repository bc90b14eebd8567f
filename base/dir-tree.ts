/** A folder on disk as input: `bootmedia image …` folders and prestart folders. */
import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { BootmediaError } from "./errors.ts";
import type { TreeEntry } from "./tree.ts";
import "./codes.ts";

/**
 * Every folder and regular file under `dir` (dot files included), sorted by path.
 *
 * Inputs are the folder's own files. A symbolic link whose target, fully resolved, is a
 * regular file inside the same folder is read as that file (a copy on the media: FAT has
 * no links); any other link — leading outside the folder, to a folder (the way loops are
 * made), dangling or looping — and any FIFO, socket or device is BM2009 naming the path.
 * A subfolder that cannot be listed is BM2011 naming it (the user's file, not a bug).
 * Synchronous: one lstat per entry, and a thread-pool round trip each cost more than the
 * call itself on trees of thousands of files.
 */
export async function treeFromDir(dir: string): Promise<TreeEntry[]> {
  const isDir = (() => {
    try {
      return lstatSync(dir).isDirectory();
    } catch {
      return false;
    }
  })();
  if (!isDir) throw new BootmediaError("BM1009", `${dir} is not a folder`, { where: dir });
  const out: TreeEntry[] = [];
  const base = dir.endsWith("/") ? dir : `${dir}/`; // path.join per entry cost more than the lstat
  const realRoot = `${realpathSync(dir)}/`;
  const walk = (rel: string) => {
    // Dirents come from lstat: a symbolic link to a folder is a link here, never followed.
    for (const d of listFolder(base + rel)) {
      const path = rel + d.name;
      if (d.isDirectory()) {
        out.push({ type: "dir", path, mode: lstatSync(base + path).mode & 0o7777 });
        walk(`${path}/`);
      } else if (d.isFile()) {
        const st = lstatSync(base + path);
        out.push({
          type: "file",
          path,
          size: st.size,
          source: { kind: "file", path: base + path },
          mode: st.mode & 0o7777,
        });
      } else if (d.isSymbolicLink()) {
        const st = linkedFile(base + path, realRoot);
        out.push({
          type: "file",
          path,
          size: st.size,
          source: { kind: "file", path: base + path },
          mode: st.mode & 0o7777,
        });
      } else {
        throw new BootmediaError(
          "BM2009",
          `${base + path} is not a regular file or folder (a FIFO, socket or device)`,
          { where: base + path },
        );
      }
    }
  };
  walk("");
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

function listFolder(path: string) {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch (e) {
    throw unreadableInput(path.replace(/\/$/, ""), e);
  }
}

/** BM2011: a file or folder of an input folder that bootmedia may not read. */
export function unreadableInput(path: string, e: unknown): BootmediaError {
  return new BootmediaError("BM2011", `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
    where: path,
    cause: e,
  });
}

/** The stat of a link's target when it is a regular file inside `realRoot`; BM2009 otherwise. */
function linkedFile(link: string, realRoot: string) {
  let real: string;
  try {
    real = realpathSync(link);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ELOOP"
        ? "is a link loop"
        : code === "ENOENT"
          ? "is a dangling link"
          : `is a link that cannot be resolved (${code})`;
    throw new BootmediaError("BM2009", `${link} ${why}`, { where: link });
  }
  if (!`${real}/`.startsWith(realRoot))
    throw new BootmediaError("BM2009", `${link} is a link leading outside the folder (to ${real})`, { where: link });
  const st = statSync(real);
  if (!st.isFile())
    throw new BootmediaError(
      "BM2009",
      `${link} is a link to ${st.isDirectory() ? "a folder" : "a special file"} (${real}); only links to regular files are followed`,
      { where: link },
    );
  return st;
}
