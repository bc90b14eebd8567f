/**
 * Where each package file of stand-alone media goes: `bootmedia/content/<ID>/<path>` (with
 * `.enc` when encrypted), or, where the file system cannot hold it whole (FAT32: under
 * 4 GiB), numbered pieces `<name>.000`, `.001`, … of PIECE_BYTES each but the last. Every
 * piece names its disc, so a CD/DVD set can later spread pieces over several discs without
 * another format (docs/standalone-media.md).
 */
import type { ContentPackage, ManifestFile } from "../../core/types.ts";

const STANDALONE_DIR = "bootmedia/standalone";
export const TASK_SEQUENCE_PATH = `${STANDALONE_DIR}/task-sequence.txt`;
export const CONTENT_INDEX_PATH = `${STANDALONE_DIR}/content.txt`;
export const INDEX_JSON_PATH = `${STANDALONE_DIR}/index.json`;
export const INDEX_MAC_PATH = `${STANDALONE_DIR}/index.mac`;
export const CONTENT_DIR = "bootmedia/content";

/** FAT32 holds files of at most 4 GiB - 1 bytes: a file of 4 GiB or more is stored as pieces. */
const SPLIT_AT = 2 ** 32;
/** Each piece but the last: 4095 MiB, below FAT32's limit with room to spare (as Rufus and wimlib do). */
const PIECE_BYTES = 4095 * 2 ** 20;

export interface PlacedPiece {
  /** 0, 1, … in the order the pieces join. */
  n: number;
  disc: number;
  path: string;
  /** Byte offset of the piece in the stored file. */
  offset: number;
  size: number;
}

export interface PlacedFile extends ManifestFile {
  packageId: string;
  encrypted: boolean;
  pieces: PlacedPiece[];
}

/** Whether a media path is stand-alone media's own (the program, the index, the package files). */
export const isStandaloneFile = (path: string) =>
  path.startsWith(`${STANDALONE_DIR}/`) || path.startsWith(`${CONTENT_DIR}/`);

/** A package file's piece on the media: package id, file path, piece suffix. */
const CONTENT_PIECE = new RegExp(`^${CONTENT_DIR}/([^/]+)/(.+?)(\\.\\d{3})?$`);

/** Media path of a package file (before any piece suffix). */
const storedPath = (packageId: string, path: string, encrypted: boolean) =>
  `${CONTENT_DIR}/${packageId}/${path}${encrypted ? ".enc" : ""}`;

/** Lays out every file of the packages; `split` when the target's file system needs pieces (USB: FAT32). */
export function placeFiles(
  packages: readonly ContentPackage[],
  opts: { encrypted: boolean; split: boolean },
): PlacedFile[] {
  const out: PlacedFile[] = [];
  for (const p of packages) {
    for (const f of p.files) {
      const base = storedPath(p.id, f.path, opts.encrypted);
      const pieces: PlacedPiece[] = [];
      if (!opts.split || f.size < SPLIT_AT) pieces.push({ n: 0, disc: 1, path: base, offset: 0, size: f.size });
      else
        for (let offset = 0, n = 0; offset < f.size; offset += PIECE_BYTES, n++)
          pieces.push({
            n,
            disc: 1,
            path: `${base}.${String(n).padStart(3, "0")}`,
            offset,
            size: Math.min(PIECE_BYTES, f.size - offset),
          });
      out.push({ ...f, packageId: p.id, encrypted: opts.encrypted, pieces });
    }
  }
  return out;
}

/** Where `plan` says each package file went: its pieces, their sizes and discs (volumes), from the layout alone. */
export function plannedStandalone(
  volumes: ReadonlyArray<{ index: number; entries: ReadonlyArray<{ type: string; path: string; size?: number }> }>,
): Array<{ package: string; file: string; size: number; pieces: Array<{ path: string; size: number; disc: number }> }> {
  const out = new Map<
    string,
    { package: string; file: string; size: number; pieces: Array<{ path: string; size: number; disc: number }> }
  >();
  for (const v of volumes)
    for (const e of v.entries) {
      const m = e.type === "file" ? CONTENT_PIECE.exec(e.path) : null;
      if (!m) continue;
      const key = `${m[1]}/${m[2]}`;
      const f = out.get(key) ?? { package: m[1]!, file: m[2]!, size: 0, pieces: [] };
      f.size += e.size ?? 0;
      f.pieces.push({ path: e.path, size: e.size ?? 0, disc: v.index });
      out.set(key, f);
    }
  return [...out.values()];
}
