/**
 * Limits on what bootmedia reads, and the one way it reads a small input file (spec,
 * password, secret, manifest): opened without blocking, refused unless it is a regular
 * file, refused above a size limit. A FIFO opened the ordinary way blocks a thread-pool
 * thread forever, and then not even process.exit can end the process.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { BootmediaError, type ErrorCode } from "../base/errors.ts";
import "./codes.ts";

export const LIMITS = {
  /** A spec file: real specs are a few KiB; 1 MiB holds tens of thousands of variables (and parses in seconds). */
  specBytes: 1024 * 1024,
  /** YAML nodes (mappings, lists, scalars) in one spec. */
  specNodes: 100_000,
  /** Levels of nesting in one spec: real specs use under 10; yaml's composer runs out of stack near 800. */
  specDepth: 100,
  /** YAML alias expansions in one spec (a billion-laughs document dies here). */
  specAliases: 100,
  /** A password or secret file. */
  secretBytes: 64 * 1024,
  /** A package manifest (package.json): 1 million files take ~150 MiB. */
  manifestBytes: 256 * 1024 * 1024,
} as const;

function formatBytes(n: number): string {
  return n >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(0)} MiB`
    : n >= 1024
      ? `${(n / 1024).toFixed(0)} KiB`
      : `${n} bytes`;
}

/** "1048577 bytes (1 MiB)": exact, so a size just over a limit never reads the same as the limit. */
function exactBytes(n: number): string {
  return n >= 1024 ? `${n} bytes (${formatBytes(n)})` : `${n} bytes`;
}

/**
 * Reads a small input file as UTF-8. Errors: `code` with the errno for unreadable files,
 * BM1013 for anything but a regular file, BM1014 above `maxBytes`.
 */
export async function readInputFile(
  path: string,
  opts: { label: string; maxBytes: number; code: ErrorCode; where?: string },
): Promise<string> {
  return (await readInputBytes(path, opts)).toString("utf8");
}

/** readInputFile's bytes (a DER certificate, a binary): the same refusals of special files and sizes. */
export async function readInputBytes(
  path: string,
  opts: { label: string; maxBytes: number; code: ErrorCode; where?: string },
): Promise<Buffer> {
  const where = opts.where ?? path;
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new BootmediaError(
      opts.code,
      `cannot read ${opts.label} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      { where },
    );
  }
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw new BootmediaError("BM1013", `${opts.label} ${path} is ${kindOf(st)}, not a regular file`, { where });
    if (st.size > opts.maxBytes) {
      throw new BootmediaError(
        "BM1014",
        `${opts.label} ${path} is ${exactBytes(st.size)}; the limit is ${exactBytes(opts.maxBytes)}`,
        { where },
      );
    }
    const buf = await fh.readFile();
    if (buf.length > opts.maxBytes)
      throw new BootmediaError("BM1014", `${opts.label} ${path} grew past ${exactBytes(opts.maxBytes)} while read`, {
        where,
      });
    return buf;
  } catch (e) {
    if (e instanceof BootmediaError) throw e;
    throw new BootmediaError(
      opts.code,
      `cannot read ${opts.label} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      { where },
    );
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** "a FIFO", "a block device", … for messages about special files. */
export function kindOf(st: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isBlockDevice(): boolean;
  isCharacterDevice(): boolean;
  isSymbolicLink(): boolean;
}): string {
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isBlockDevice()) return "a block device";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "a special file";
}

/**
 * A first look at a small input file, synchronously: its text when it is a regular file
 * within `maxBytes`, else undefined (never blocks on a FIFO). The real read then reports
 * what is wrong with a coded error.
 */
export function peekInputFile(path: string, maxBytes: number): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    return readFileSync(fd, "utf8");
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
