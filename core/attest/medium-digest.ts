/**
 * A medium's sha256, as its SBOM, provenance and testbed statements name it: of the file's
 * bytes for an ISO or USB image; for a folder (the directory target), of its listing in
 * sha256sum's format, sorted by path: "<sha256>  <path>\n" for every regular file, paths
 * relative and "/"-separated. `sha256sum` and `find | sort | xargs sha256sum | sha256sum`
 * reproduce both.
 */
import { createHash } from "node:crypto";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { sha256File } from "../content/manifest.ts";
import "./codes.ts";

async function listFiles(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** The medium's sha256 (hex); BM6003 when it cannot be read. */
export async function mediumSha256(path: string): Promise<string> {
  try {
    const st = await lstat(path);
    if (st.isFile()) return await sha256File(path);
    if (!st.isDirectory()) throw new Error("neither a file nor a folder");
    const files = (await listFiles(path)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const listing = createHash("sha256");
    for (const f of files) listing.update(`${await sha256File(join(path, f))}  ${f}\n`);
    return listing.digest("hex");
  } catch (e) {
    throw new BootmediaError(
      "BM6003",
      `cannot read the medium ${path}: ${(e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e))}`,
      { where: path },
    );
  }
}
