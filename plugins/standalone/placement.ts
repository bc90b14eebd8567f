/**
 * Where each package file of stand-alone media goes: `bootmedia/content/<ID>/<path>` (with
 * `.enc` when encrypted), or, where the file system cannot hold it whole (FAT32: under
 * 4 GiB), numbered pieces `<name>.000`, `.001`, … of PIECE_BYTES each but the last. Every
 * piece names its disc: a CD/DVD set spreads pieces over several discs (disc-set.ts;
 * docs/standalone-media.md).
 */
import type { ContentPackage, ManifestFile } from "../../core/types.ts";

const STANDALONE_DIR = "bootmedia/standalone";
export const TASK_SEQUENCE_PATH = `${STANDALONE_DIR}/task-sequence.txt`;
export const CONTENT_INDEX_PATH = `${STANDALONE_DIR}/content.txt`;
export const INDEX_JSON_PATH = `${STANDALONE_DIR}/index.json`;
export const INDEX_MAC_PATH = `${STANDALONE_DIR}/index.mac`;
export const CONTENT_DIR = "bootmedia/content";
/** On every stand-alone medium: which disc of which set it is (one line, renderDiscLine). */
export const DISC_PATH = `${STANDALONE_DIR}/disc.txt`;
const DISC_LINE_VERSION = 1;

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
  /** Its media path, before any piece suffix. */
  stored: string;
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

/** The name of piece `n` of a stored file: `<name>.000`, `.001`, … (a file in one piece keeps its name). */
export const pieceName = (stored: string, n: number) => `${stored}.${String(n).padStart(3, "0")}`;

/**
 * disc.txt: `bootmedia-disc<TAB>1<TAB><set id><TAB><disc><TAB><discs>` and a newline. The boot
 * environment (busybox sh) reads it to tell whether an inserted disc is the one it asked for.
 */
export const renderDiscLine = (setId: string, disc: number, discs: number) =>
  `${["bootmedia-disc", DISC_LINE_VERSION, setId, disc, discs].join("\t")}\n`;

export interface DiscLabel {
  setId: string;
  disc: number;
  discs: number;
}

/** Reads disc.txt strictly: undefined for anything but one line of this version. */
export function parseDiscLine(text: string): DiscLabel | undefined {
  const m = /^bootmedia-disc\t1\t([0-9a-f]{16})\t([1-9]\d*)\t([1-9]\d*)\n$/.exec(text);
  if (!m) return undefined;
  const label = { setId: m[1]!, disc: Number(m[2]), discs: Number(m[3]) };
  return label.disc <= label.discs ? label : undefined;
}

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
            path: pieceName(base, n),
            offset,
            size: Math.min(PIECE_BYTES, f.size - offset),
          });
      out.push({ ...f, packageId: p.id, encrypted: opts.encrypted, stored: base, pieces });
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
