/**
 * The input every image writer (ISO 9660, FAT, cpio, directory) takes: a flat list of
 * entries with POSIX-style relative paths. Writers derive directories from paths, so an
 * entry list never needs to name every parent folder (it may, to carry a mode or mtime).
 */

/** Where a file's bytes come from. Files are streamed from disk, never held whole. */
export type FileSource =
  /**
   * A file on disk. With `offset`, the entry is the `size` bytes of `path` from that byte (a
   * piece of a larger file: stand-alone media split files FAT32 cannot hold); the source may
   * then go on past them. Without it, the whole file, which must be exactly `size` bytes.
   */
  { kind: "file"; path: string; offset?: number } | { kind: "bytes"; data: Uint8Array };

export interface TreeFile {
  type: "file";
  /** Relative media path with "/" separators, no leading slash, no "." or ".." parts. */
  path: string;
  /** Size in bytes; a source whose size differs when written is a write error. */
  size: number;
  source: FileSource;
  /** POSIX mode bits (permissions only); writers default to 0o644. */
  mode?: number;
}

export interface TreeDir {
  type: "dir";
  path: string;
  mode?: number;
}

export type TreeEntry = TreeFile | TreeDir;

/** Splits a media path into its parts, rejecting anything that could escape the tree. */
export function splitTreePath(path: string): string[] {
  const parts = path.split("/");
  if (path === "" || path.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new Error(`invalid media path: ${JSON.stringify(path)}`);
  }
  return parts;
}
