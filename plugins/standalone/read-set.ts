/**
 * Stand-alone CD/DVD sets read back: every disc says which disc of which set it is
 * (bootmedia/standalone/disc.txt); disc 1 holds the index. A set is opened as one medium from
 * any of its discs, its siblings found beside it under the names the build gave them
 * (`<base>-<n>.iso`), each checked to be the disc of this set it is named as.
 */
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { BootmediaError, isBootmediaError } from "../../base/errors.ts";
import type { OpenedMedia } from "../../core/plugin.ts";
import { CONTENT_DIR, DISC_PATH, parseDiscLine, type DiscLabel } from "./placement.ts";
import "./codes.ts";

/** Which disc of which set the media are; undefined for media without a (readable) disc.txt. */
async function readDiscLabel(media: OpenedMedia): Promise<DiscLabel | undefined> {
  const bytes = await media.read(DISC_PATH);
  return bytes ? parseDiscLine(bytes.toString("utf8")) : undefined;
}

/**
 * The paths of discs 1..`discs` of a set, given the path of its disc `disc`, as the ISO writer
 * names them (`<base>-<n>.iso`); undefined when `path` is not so named.
 */
export function setDiscPaths(path: string, disc: number, discs: number): string[] | undefined {
  const m = /^(.*)-(\d+)(\.[^.]*)?$/.exec(basename(path));
  if (!m || Number(m[2]) !== disc) return undefined;
  return Array.from({ length: discs }, (_, i) => join(dirname(path), `${m[1]}-${i + 1}${m[3] ?? ""}`));
}
const discPaths = (path: string, label: DiscLabel) => setDiscPaths(path, label.disc, label.discs);

/** A data disc (2..N of a set): what `inspect` says of it. */
interface DataDiscReport {
  set: { id: string; discs: number };
  disc: number;
  /** Where disc 1 (the index, the program, the boot files) is expected. */
  firstDisc?: string;
  pieces: Array<{ path: string; size: number }>;
}

/** The data-disc facts of disc 2..N of a set; undefined for any other media. */
export async function readDataDisc(media: OpenedMedia): Promise<DataDiscReport | undefined> {
  const label = await readDiscLabel(media);
  if (!label || label.disc === 1) return undefined;
  const first = discPaths(media.path, label)?.[0];
  return {
    set: { id: label.setId, discs: label.discs },
    disc: label.disc,
    ...(first ? { firstDisc: first } : {}),
    pieces: media.files.filter((f) => f.path.startsWith(`${CONTENT_DIR}/`)),
  };
}

export function formatDataDisc(r: DataDiscReport): string {
  const bytes = r.pieces.reduce((n, p) => n + p.size, 0);
  return [
    `stand-alone media: disc ${r.disc} of ${r.set.discs} of set ${r.set.id}, a data disc (not bootable)`,
    `  ${r.pieces.length} piece(s) of package files, ${bytes} bytes; the task sequence, the index and the boot files are on disc 1${r.firstDisc ? ` (${r.firstDisc})` : ""}: inspect it for the set`,
  ].join("\n");
}

/**
 * Media opened as a whole set when they are a disc of a stand-alone set of several discs (any
 * of them): one medium whose files are every disc's (disc 1's where a path is on several),
 * read from the disc that holds them. Other media are returned as they are. BM6111 when a
 * disc is not beside it, BM6112 when a file named as one is not that disc of this set.
 */
export async function openWholeSet(
  media: OpenedMedia,
  open: (path: string) => Promise<OpenedMedia>,
): Promise<{ media: OpenedMedia; set?: { id: string; discs: string[] } }> {
  const label = await readDiscLabel(media);
  if (!label || label.discs === 1) return { media };
  const paths = discPaths(media.path, label);
  if (!paths)
    throw new BootmediaError(
      "BM6111",
      `${media.path} is disc ${label.disc} of ${label.discs} of set ${label.setId}, but is not named NAME-${label.disc}.iso: its other discs cannot be found`,
      { where: media.path },
    );
  const discs: OpenedMedia[] = [];
  for (const [i, path] of paths.entries()) {
    const n = i + 1;
    if (n === label.disc) {
      discs.push(media);
      continue;
    }
    if (!existsSync(path))
      throw new BootmediaError(
        "BM6111",
        `disc ${n} of ${label.discs} of set ${label.setId} is missing: no ${path} beside ${basename(media.path)}`,
        { where: path },
      );
    const disc = await open(path).catch((e: unknown) => {
      if (!isBootmediaError(e)) throw e;
      return undefined;
    });
    const found = disc && (await readDiscLabel(disc));
    if (!disc || !found || found.setId !== label.setId || found.disc !== n || found.discs !== label.discs)
      throw new BootmediaError(
        "BM6112",
        `${path} is not disc ${n} of ${label.discs} of set ${label.setId}: ${found ? `it is disc ${found.disc} of ${found.discs} of set ${found.setId}` : "it is no disc of a stand-alone set"}`,
        { where: path },
      );
    discs.push(disc);
  }
  return { media: joinDiscs(discs), set: { id: label.setId, discs: paths } };
}

/** One medium over the discs of a set, disc 1 first. */
function joinDiscs(discs: readonly OpenedMedia[]): OpenedMedia {
  const holder = new Map<string, OpenedMedia>();
  const files: OpenedMedia["files"] = [];
  for (const d of discs)
    for (const f of d.files)
      if (!holder.has(f.path)) {
        holder.set(f.path, d);
        files.push(f);
      }
  const first = discs[0]!;
  return {
    kind: first.kind,
    path: first.path,
    files,
    config: first.config,
    read: async (p) => holder.get(p)?.read(p),
    stream: async (p, onChunk) => holder.get(p)?.stream(p, onChunk),
  };
}
