/**
 * A streaming, deterministic newc cpio writer (the initramfs format). Same input, same
 * bytes: entries are sorted by path components, parents are added when missing, inode
 * numbers count up in that order, owner is root, and every mtime is sourceDateEpoch.
 */
import { createReadStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { BootmediaError } from "../../base/errors.ts";
import { splitTreePath, type TreeEntry } from "../../base/tree.ts";
import { encodeNewcHeader, FILE_TYPE, NEWC_TRAILER_NAME, padTo4 } from "./newc.ts";
import "../../base/codes.ts";

export interface CpioSymlink {
  type: "symlink";
  path: string;
  /** The link text, stored as the entry's data (may be absolute: it resolves inside the archive's root). */
  target: string;
}

export interface CpioDevice {
  type: "chardev" | "blockdev";
  path: string;
  major: number;
  minor: number;
  mode?: number;
}

/** What a cpio archive can hold: the shared tree entries plus links and device nodes. */
export type CpioEntry = TreeEntry | CpioSymlink | CpioDevice;

interface CpioOptions {
  /** Seconds since the epoch stamped on every entry (callers pass SOURCE_DATE_EPOCH). */
  sourceDateEpoch: number;
}

const DEFAULT_MODE = { dir: 0o755, file: 0o644, symlink: 0o777, chardev: 0o600, blockdev: 0o600 } as const;

/** Sorts by path components and adds every missing parent folder, rejecting duplicates. */
function orderCpioEntries(entries: readonly CpioEntry[]): CpioEntry[] {
  const byPath = new Map<string, CpioEntry>();
  for (const e of entries) {
    splitTreePath(e.path);
    if (byPath.has(e.path)) throw new Error(`cpio: duplicate path ${e.path}`);
    byPath.set(e.path, e);
  }
  for (const e of entries) {
    const parts = splitTreePath(e.path);
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const existing = byPath.get(parent);
      if (!existing) byPath.set(parent, { type: "dir", path: parent });
      else if (existing.type !== "dir") throw new Error(`cpio: ${parent} is not a folder but has children`);
    }
  }
  return [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
}

function comparePaths(a: string, b: string): number {
  const pa = a.split("/");
  const pb = b.split("/");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Yields the archive's bytes entry by entry; file data is streamed from its source. */
async function* encodeCpioArchive(entries: readonly CpioEntry[], opts: CpioOptions): AsyncGenerator<Uint8Array> {
  const mtime = opts.sourceDateEpoch;
  let ino = 0;
  for (const e of orderCpioEntries(entries)) {
    ino += 1;
    const data = e.type === "symlink" ? new TextEncoder().encode(e.target) : undefined;
    const size = e.type === "file" ? e.size : (data?.length ?? 0);
    const isDevice = e.type === "chardev" || e.type === "blockdev";
    yield encodeNewcHeader(
      {
        ino,
        mode: FILE_TYPE[e.type] | ((("mode" in e && e.mode) || DEFAULT_MODE[e.type]) & 0o7777),
        uid: 0,
        gid: 0,
        nlink: e.type === "dir" ? 2 : 1,
        mtime,
        filesize: size,
        devmajor: 0,
        devminor: 0,
        rdevmajor: isDevice ? e.major : 0,
        rdevminor: isDevice ? e.minor : 0,
        check: 0,
      },
      e.path,
    );
    if (data) yield data;
    if (e.type === "file") yield* streamFileData(e.path, e.size, e.source);
    if (size % 4) yield new Uint8Array(padTo4(size));
  }
  const trailer = { ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0 };
  yield encodeNewcHeader(
    { ...trailer, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, check: 0 },
    NEWC_TRAILER_NAME,
  );
}

async function* streamFileData(path: string, size: number, source: Extract<TreeEntry, { type: "file" }>["source"]) {
  let seen = 0;
  if (source.kind === "bytes") {
    seen = source.data.length;
    if (seen === size) yield source.data;
  } else {
    for await (const chunk of createReadStream(source.path)) {
      seen += (chunk as Buffer).length;
      if (seen > size) break;
      yield chunk as Buffer;
    }
  }
  if (seen !== size) {
    throw new BootmediaError(
      "BM4002",
      `cpio: ${path} should be ${size} bytes but its source ${seen > size ? "is longer" : `has ${seen}`}`,
      {
        where: source.kind === "file" ? source.path : path,
      },
    );
  }
}

/** Writes the archive to `outPath` atomically (temp file, then rename), gzip-compressed if asked. */
export async function writeCpioArchive(
  entries: readonly CpioEntry[],
  outPath: string,
  opts: CpioOptions & { compression?: "gzip" | "none" },
): Promise<void> {
  const tmp = `${outPath}.tmp`;
  const source = Readable.from(encodeCpioArchive(entries, opts));
  try {
    if (opts.compression === "gzip") {
      // Node's gzip header carries no name and mtime 0, so the output stays reproducible.
      // Default level 6: level 9 is ~10x slower on x86-64 kernel modules for <1% smaller output.
      await pipeline(source, createGzip(), createWriteStream(tmp));
    } else {
      await pipeline(source, createWriteStream(tmp));
    }
    await rename(tmp, outPath);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
