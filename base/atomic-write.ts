/**
 * A file written whole or not at all: the bytes go to a temporary beside it
 * (`.<name>.bootmedia-<pid>.tmp`, the name every bootmedia temporary has), are synced, and the
 * temporary is renamed over the file; on any failure the temporary is removed and the old file
 * is left as it was.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.bootmedia-${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    const fd = openSync(tmp, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
