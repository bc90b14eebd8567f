/**
 * CD/DVD sets: when the content does not fit one volume, it is spread over several.
 * Volume 1 keeps everything needed to boot (pinned entries); the rest is packed in path
 * order; a file larger than the room left is cut into parts (`<path>.partN`) listed in
 * bootmedia/volumes.json so the boot environment can ask for disc N and reassemble it.
 */
import type { LayoutEntry, LayoutFile, Volume } from "../../core/types.ts";

export const VOLUMES_MANIFEST = "bootmedia/volumes.json";
export const VOLUME_ID_FILE = "bootmedia/volume.json";
const SECTOR = 2048;
/** Room kept per volume for ISO metadata: descriptors, path tables, directories, padding. */
export const VOLUME_OVERHEAD = 2 * 1024 * 1024;
/** Room per entry for its directory records (ISO, Joliet, Rock Ridge). */
const ENTRY_OVERHEAD = 768;

const sectorsOf = (bytes: number) => Math.ceil(bytes / SECTOR) * SECTOR;
export const entryCost = (e: LayoutEntry) => (e.type === "file" ? sectorsOf(e.size) : 0) + ENTRY_OVERHEAD;

interface SplitPart {
  volume: number;
  path: string;
  offset: number;
  size: number;
}
interface SplitFile {
  path: string;
  size: number;
  sha256?: string;
  parts: SplitPart[];
}
interface SplitResult {
  volumes: Array<{ index: number; entries: LayoutEntry[] }>;
  split: SplitFile[];
}

export class SplitError extends Error {}

/** Spreads entries over volumes of `capacity` bytes; pinned entries all stay on volume 1. */
export function splitVolumes(
  entries: LayoutEntry[],
  pinned: (e: LayoutEntry) => boolean,
  capacity: number,
  reserve = 0,
): SplitResult {
  const budget = capacity - VOLUME_OVERHEAD - reserve;
  const first = entries.filter(pinned);
  const firstCost = first.reduce((n, e) => n + entryCost(e), 0);
  if (firstCost > budget)
    throw new SplitError(
      `the boot files alone need ${firstCost + VOLUME_OVERHEAD} bytes; one volume holds ${capacity}`,
    );
  const volumes = [{ index: 1, entries: [...first], used: firstCost }];
  const split: SplitFile[] = [];
  const rest = entries
    .filter((e) => !pinned(e) && e.type === "file")
    .sort((a, b) => (a.path < b.path ? -1 : 1)) as LayoutFile[];
  for (const file of rest) {
    let current = volumes[volumes.length - 1]!;
    if (current.used + entryCost(file) <= budget) {
      current.entries.push(file);
      current.used += entryCost(file);
      continue;
    }
    if (entryCost(file) <= budget) {
      volumes.push({ index: current.index + 1, entries: [file], used: entryCost(file) });
      continue;
    }
    // Larger than a whole volume: cut it into parts that fill each volume's room.
    const parts: SplitPart[] = [];
    for (let offset = 0; offset < file.size; ) {
      let room = Math.floor((budget - current.used - ENTRY_OVERHEAD) / SECTOR) * SECTOR;
      if (room < SECTOR) {
        current = { index: current.index + 1, entries: [], used: 0 };
        volumes.push(current);
        room = Math.floor((budget - ENTRY_OVERHEAD) / SECTOR) * SECTOR;
      }
      const size = Math.min(room, file.size - offset);
      const part: LayoutFile = {
        type: "file",
        path: `${file.path}.part${parts.length + 1}`,
        size,
        source: sliceOf(file, offset, size),
        ...(file.mode ? { mode: file.mode } : {}),
      };
      current.entries.push(part);
      current.used += entryCost(part);
      parts.push({ volume: current.index, path: part.path, offset, size });
      offset += size;
    }
    split.push({
      path: file.path,
      size: file.size,
      ...(file.source.kind === "content" ? { sha256: file.source.sha256 } : {}),
      parts,
    });
  }
  return { volumes: volumes.map(({ index, entries: es }) => ({ index, entries: es })), split };
}

function sliceOf(file: LayoutFile, offset: number, length: number): LayoutFile["source"] {
  if (file.source.kind !== "content")
    throw new SplitError(`${file.path} is too large for one volume and is not library content, so it cannot be split`);
  return { kind: "slice", sha256: file.source.sha256, offset, length };
}

/** The set manifest every volume carries (the boot environment reads it from volume 1). */
export function volumesManifest(name: string, volumes: Volume[], split: SplitFile[]): string {
  return (
    JSON.stringify(
      {
        set: name,
        count: volumes.length,
        volumes: volumes.map((v) => ({
          index: v.index,
          label: v.label,
          files: v.entries.filter((e) => e.type === "file").map((e) => e.path),
        })),
        split,
      },
      null,
      2,
    ) + "\n"
  );
}
