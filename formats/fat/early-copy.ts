/**
 * Starting the payload copy before the volume is planned. Naming a big tree (short names,
 * long-name entries, case checks) takes a while; file places follow from paths and sizes
 * alone (guessFatData), so the copy starts from that guess and runs while planFat works.
 * Once the plan is there, the guess is checked against it: when they differ (the volume had
 * to grow), the copy is cancelled, the file emptied and the copy restarted from the plan.
 */
import { ftruncateSync } from "node:fs";
import type { FatGeometry } from "./geometry.ts";
import { guessFatData, type FatOptions, type FatPlan } from "./plan.ts";
import { SECTOR_BYTES } from "./structures.ts";
import { startPayloadCopy, type Payload, type PayloadCopy } from "../payload-copy.ts";
import type { FileSource, TreeEntry } from "../../base/tree.ts";

export interface EarlyCopy {
  copy: PayloadCopy;
  payloads: Payload[];
}

export function clusterOffset(g: FatGeometry, offset: number, cluster: number): number {
  return offset + (g.firstDataSector + (cluster - 2) * g.sectorsPerCluster) * SECTOR_BYTES;
}

type Placed = { source: FileSource; size: number; firstCluster: number; clusters: number };

/** Files the payload copier moves (the others are bytes in memory, written with the metadata). */
export const fileBacked = <F extends Placed>(files: readonly F[]): F[] => files.filter((f) => f.source.kind === "file");

/** The payloads of the file-backed files, in plan order, at their places in the image. */
export function payloadsOf(files: readonly Placed[], g: FatGeometry, offset: number): Payload[] {
  return fileBacked(files).map((f) => ({
    path: (f.source as { path: string }).path,
    ...((f.source as { offset?: number }).offset !== undefined
      ? { from: (f.source as { offset: number }).offset }
      : {}),
    length: f.size,
    offset: f.clusters ? clusterOffset(g, offset, f.firstCluster) : 0,
  }));
}

/** Starts copying from the guess, when there is one. */
export function startEarlyCopy(
  entries: TreeEntry[],
  opts: FatOptions,
  fd: number,
  offset: number,
): EarlyCopy | undefined {
  const guess = guessFatData(entries, opts);
  if (!guess) return undefined;
  const payloads = payloadsOf(guess.files, guess.geometry, offset);
  const fileBytes = guess.files.reduce((n, f) => n + f.size, 0);
  return { payloads, copy: startPayloadCopy(fd, payloads, (n) => opts.onProgress?.(n, fileBytes)) };
}

const samePayloads = (a: Payload[], b: Payload[]) =>
  a.length === b.length &&
  a.every(
    (p, i) => p.path === b[i].path && p.from === b[i].from && p.length === b[i].length && p.offset === b[i].offset,
  );

/**
 * The early copy when the plan agrees with its guess. Otherwise it is stopped and the file
 * emptied (nothing else is written yet), and undefined tells the writer to copy from the plan.
 */
export async function adoptEarlyCopy(
  early: EarlyCopy | undefined,
  plan: FatPlan,
  fd: number,
  offset: number,
): Promise<EarlyCopy | undefined> {
  if (!early) return undefined;
  if (samePayloads(early.payloads, payloadsOf(plan.files, plan, offset))) return early;
  await stopEarlyCopy(early);
  ftruncateSync(fd, 0);
  return undefined;
}

export async function stopEarlyCopy(early: EarlyCopy | undefined): Promise<void> {
  early?.copy.cancel();
  await early?.copy.done;
}
