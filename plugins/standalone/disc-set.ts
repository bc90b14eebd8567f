/**
 * Stand-alone CD/DVD sets (docs/standalone-media.md, "CD/DVD sets"): media that do not fit one
 * disc become discs 1..N. Disc 1 keeps every file that is not package content (boot files,
 * the ESP, the configuration, the program, the index) and fills the room left with content;
 * discs 2..N follow in order. A package file larger than the room left is cut at a sector
 * boundary, each piece on one disc, named as USB pieces are (placement.ts).
 *
 * Sizes are the ISO writer's own plan: the packing estimates each piece's directory records,
 * then every disc is planned exactly, and a disc that came out larger than the capacity is
 * packed again with that much less room (its hybrid MBR's cylinder rounding included).
 */
import { diagnostic, type Diagnostic } from "../../base/diagnostics.ts";
import type { BootEntry, LayoutEntry, LayoutFile, Volume } from "../../core/types.ts";
import { CONTENT_DIR, pieceName, type PlacedFile } from "./placement.ts";

/**
 * A set has at most 99 discs: the boot environment asks for each disc by its number, the volume
 * ids end in `_1` … `_99`, and a set larger than that is a capacity given wrong (bytes for MiB)
 * rather than media anyone would burn and feed a machine one by one.
 */
export const MAX_DISCS = 99;
const SECTOR = 2048;
/** Directory records of one file (ISO 9660 with Rock Ridge, and Joliet): an estimate the exact plan corrects. */
const ENTRY_BYTES = 768;
/** A new directory: a sector in each tree, and its own records. */
const DIR_BYTES = 2 * SECTOR + ENTRY_BYTES;
/** Exact plans that may still correct the packing's estimates. */
const ATTEMPTS = 12;

const sectors = (bytes: number) => Math.ceil(bytes / SECTOR) * SECTOR;
const isContent = (e: LayoutEntry) => e.path.startsWith(`${CONTENT_DIR}/`);
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** One piece of a file: its disc and byte range. */
interface Span {
  disc: number;
  offset: number;
  size: number;
}

/** `a/b/c.txt` → `a`, `a/b`. */
function parentDirs(path: string): string[] {
  const parts = path.split("/").slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

/**
 * Packs the files in order: each disc's `room` (what its own files and ISO metadata leave) is
 * filled before the next disc is started; a file larger than the room left is cut at a sector
 * boundary. `dirsOn(disc)`: the directories the disc holds already. Undefined when the files
 * need more than MAX_DISCS discs.
 */
export function packDiscs(
  files: ReadonlyArray<{ stored: string; size: number }>,
  room: (disc: number) => number,
  dirsOn: (disc: number) => Iterable<string>,
): { spans: Span[][]; discs: number } | undefined {
  let disc = 1;
  let used = 0;
  let dirs = new Set(dirsOn(disc));
  const spans: Span[][] = [];
  for (const f of files) {
    const mine: Span[] = [];
    const newDirs = () => parentDirs(f.stored).filter((d) => !dirs.has(d));
    for (let offset = 0; ; ) {
      const free = room(disc) - used - newDirs().length * DIR_BYTES - ENTRY_BYTES;
      const left = f.size - offset;
      const size = sectors(left) <= free ? left : Math.floor(free / SECTOR) * SECTOR;
      if (size === left || size >= SECTOR) {
        used += sectors(size) + ENTRY_BYTES + newDirs().length * DIR_BYTES;
        for (const d of newDirs()) dirs.add(d);
        mine.push({ disc, offset, size });
        offset += size;
        if (offset === f.size) break;
      }
      if (++disc > MAX_DISCS) return undefined;
      used = 0;
      dirs = new Set(dirsOn(disc));
    }
    spans.push(mine);
  }
  return { spans, discs: disc };
}

/** What spanning needs to know about the build. */
interface SpanContext {
  /** Disc 1's entries that are not stand-alone files: boot files, the ESP, the configuration. */
  fixed: readonly LayoutEntry[];
  boot: BootEntry[];
  /** The volume label of disc `index`. */
  label: (index: number) => string;
  capacity: number;
  /** The ISO image's size of `volume` in a set of `count` (the ISO writer's plan). */
  sizeOf: (volume: Volume, count: number) => number;
  /** The stand-alone files of discs 1..discs for the files' current pieces (program, index, disc.txt, pieces). */
  entries: (discs: number) => LayoutFile[][];
  /** What later stages add to disc 1 (the media manifest), as placeholders of their largest size. */
  later: (volumes: readonly Volume[]) => LayoutFile[];
}

type Spanned = { volumes: Volume[]; note: string } | { refusal: Diagnostic };

/** Lays out the stand-alone files over as many discs as they need; `files`' pieces are set to their places. */
export function spanDiscs(files: PlacedFile[], ctx: SpanContext): Spanned {
  const volumesOf = (perDisc: LayoutFile[][], withLater: boolean): Volume[] => {
    const volumes = perDisc.map((entries, i) => ({
      index: i + 1,
      label: ctx.label(i + 1),
      entries: i === 0 ? [...ctx.fixed, ...entries] : [...entries],
      boot: i === 0 ? ctx.boot : [],
    }));
    if (withLater) volumes[0]!.entries.push(...ctx.later(volumes));
    return volumes;
  };
  const oneDisc = volumesOf(ctx.entries(1), true);
  if (ctx.sizeOf(oneDisc[0]!, 1) <= ctx.capacity) return { volumes: volumesOf(ctx.entries(1), false), note: "" };

  const corrections = new Map<number, number>();
  let discs = 1;
  let last: Volume[] = [];
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    // Each disc without its content: disc 1's own files, or a data disc's disc.txt.
    const perDisc = ctx.entries(Math.max(discs, 2));
    const bare = (k: number): Volume[] =>
      volumesOf(
        [perDisc[0]!, ...(k > 1 ? [perDisc[1]!] : [])].map((es) => es.filter((e) => !isContent(e))),
        true,
      );
    const roomMemo = new Map<number, number>();
    const room = (k: number) => {
      const key = Math.min(k, 2);
      if (!roomMemo.has(key)) roomMemo.set(key, ctx.capacity - ctx.sizeOf(bare(key)[key - 1]!, Math.max(discs, 2)));
      return roomMemo.get(key)! - (corrections.get(k) ?? 0);
    };
    if (room(1) < 0 && attempt === 0)
      return {
        refusal: diagnostic(
          "BM6105",
          `disc 1 needs ${mib(ctx.capacity - room(1))} for the boot files, the configuration, the task sequence and the index (ISO metadata included); the capacity is ${mib(ctx.capacity)}`,
          { path: "target.capacity" },
        ),
      };
    const packed = packDiscs(files, room, (k) => (k === 1 ? dirsOf(bare(1)[0]!) : dirsOf(bare(2)[1]!)));
    if (!packed) {
      const content = files.reduce((n, f) => n + f.size, 0);
      return {
        refusal: diagnostic(
          "BM6106",
          `the stand-alone content (${mib(content)}) needs more than ${MAX_DISCS} discs of ${mib(ctx.capacity)} (${mib(Math.max(0, room(2)))} of content each after the ISO metadata)`,
          { path: "target.capacity" },
        ),
      };
    }
    files.forEach((f, i) => setPieces(f, packed.spans[i]!));
    discs = packed.discs;
    last = volumesOf(ctx.entries(discs), true);
    let fits = true;
    for (const v of last) {
      const excess = ctx.sizeOf(v, discs) - ctx.capacity;
      if (excess > 0) {
        corrections.set(v.index, (corrections.get(v.index) ?? 0) + sectors(excess));
        fits = false;
      }
    }
    if (fits) break;
  }
  const cut = files.filter((f) => f.pieces.length > 1).length;
  return {
    volumes: volumesOf(ctx.entries(discs), false),
    note: `spread over ${discs} discs of ${ctx.capacity} bytes; ${cut} file(s) cut into pieces`,
  };
}

function dirsOf(volume: Volume): string[] {
  return [...new Set(volume.entries.flatMap((e) => (e.type === "dir" ? [e.path] : parentDirs(e.path))))];
}

function setPieces(f: PlacedFile, spans: Span[]): void {
  f.pieces =
    spans.length === 1
      ? [{ n: 0, disc: spans[0]!.disc, path: f.stored, offset: 0, size: f.size }]
      : spans.map((s, n) => ({ n, disc: s.disc, path: pieceName(f.stored, n), offset: s.offset, size: s.size }));
}
