/**
 * writeFat: plans a volume (all coded validation first), then writes it: boot sectors, both
 * FATs, the FAT12/16 root region, directory clusters and in-memory files from the main
 * thread, file payloads through the payload copier (in the kernel on a pool thread when the
 * native helper is built) at the same time. Free clusters and cluster tails are not written:
 * the volume's region must read as zeros (a new or truncated file).
 */
import { close, ftruncate, open, unlink } from "node:fs";
import { promisify } from "node:util";
import { BootmediaError, isBootmediaError } from "../../base/errors.ts";
import { timed, timedSync } from "../../base/timings.ts";
import { BlockWriter } from "../block-writer.ts";
import { startPayloadCopy, type PayloadCopy, type PayloadFailure } from "../payload-copy.ts";
import {
  adoptEarlyCopy,
  clusterOffset,
  fileBacked,
  payloadsOf,
  startEarlyCopy,
  stopEarlyCopy,
  type EarlyCopy,
} from "./early-copy.ts";
import {
  encodeBootSector,
  encodeDirectory,
  encodeFsInfo,
  FAT32_BACKUP_BOOT_SECTOR,
  FAT32_FSINFO_SECTOR,
  fillFatEntries,
  listChains,
  packFatEntries,
} from "./encode.ts";
import { planFat, type FatOptions, type FatPlan, type PlanDir, type PlanFile } from "./plan.ts";
import { SECTOR_BYTES } from "./structures.ts";
import type { TreeEntry } from "../../base/tree.ts";
import "./codes.ts";

const openAsync = promisify(open);
const closeAsync = promisify(close);
const ftruncateAsync = promisify(ftruncate);
const unlinkAsync = promisify(unlink);

/** FAT entries generated per chunk: 1 MiB of FAT32 at a time keeps memory flat on big volumes. */
const FAT_CHUNK_ENTRIES = 256 * 1024;

type FatOutput = string | { fd: number; offset: number };

export async function writeFat(entries: TreeEntry[], opts: FatOptions, out: FatOutput): Promise<FatPlan> {
  if (typeof out !== "string") {
    const plan = planFat(entries, opts);
    await writeFatVolume(plan, out.fd, out.offset, opts.onProgress);
    return plan;
  }
  let fd: number;
  try {
    fd = await openAsync(out, "w");
  } catch (cause) {
    throw new BootmediaError("BM4202", `Cannot create ${out}: ${(cause as Error).message}`, { where: out, cause });
  }
  let early: EarlyCopy | undefined;
  try {
    early = timedSync("early layout", () => startEarlyCopy(entries, opts, fd, 0));
    const plan = timedSync("layout", () => planFat(entries, opts));
    early = await adoptEarlyCopy(early, plan, fd, 0);
    await ftruncateAsync(fd, plan.totalBytes); // sparse: free clusters read as zeros without being written
    await writeFatVolume(plan, fd, 0, opts.onProgress, early);
    await closeAsync(fd);
    return plan;
  } catch (e) {
    await stopEarlyCopy(early);
    await closeAsync(fd).catch(() => {});
    await unlinkAsync(out).catch(() => {});
    throw e;
  }
}

/**
 * Writes a planned volume at byte `offset` of an open file whose region reads as zeros.
 * `early` is a payload copy already running for this plan (see early-copy.ts).
 */
export async function writeFatVolume(
  plan: FatPlan,
  fd: number,
  offset: number,
  onProgress?: (done: number, total: number) => void,
  early?: EarlyCopy,
): Promise<void> {
  if (offset % SECTOR_BYTES !== 0) throw new Error(`FAT volume offset ${offset} is not sector-aligned`);
  const w = new BlockWriter(fd);
  const copiedFiles = fileBacked(plan.files); // payload i is copiedFiles[i]
  let copy: PayloadCopy | undefined =
    early?.copy ?? startPayloadCopy(fd, payloadsOf(plan.files, plan, offset), (n) => onProgress?.(n, plan.fileBytes));
  try {
    await timed("metadata", async () => {
      await writeReservedRegion(w, plan, offset);
      await writeFats(w, plan, offset);
      await writeDirectories(w, plan, offset);
      await writeInlineFiles(w, plan, offset);
      await w.close();
    });
    const failure = await timed("copy-wait", () => copy!.done);
    copy = undefined;
    if (failure) throw payloadError(failure, copiedFiles[failure.index]);
    onProgress?.(plan.fileBytes, plan.fileBytes);
  } catch (e) {
    copy?.cancel();
    await copy?.done;
    if (isBootmediaError(e)) throw e;
    throw new BootmediaError("BM4202", `Writing the FAT image failed: ${(e as Error).message}`, { cause: e });
  }
}

async function writeReservedRegion(w: BlockWriter, plan: FatPlan, offset: number): Promise<void> {
  const boot = encodeBootSector(plan, offset / SECTOR_BYTES);
  const region = Buffer.alloc(plan.reservedSectors * SECTOR_BYTES);
  region.set(boot, 0);
  if (plan.fatType === 32) {
    const fsinfo = encodeFsInfo(plan);
    region.set(fsinfo, FAT32_FSINFO_SECTOR * SECTOR_BYTES);
    // Backup boot sector and its FSInfo copy (spec §3.3 BPB_BkBootSec).
    region.set(boot, FAT32_BACKUP_BOOT_SECTOR * SECTOR_BYTES);
    region.set(fsinfo, (FAT32_BACKUP_BOOT_SECTOR + FAT32_FSINFO_SECTOR) * SECTOR_BYTES);
  }
  await w.seek(offset);
  await w.writeBytes(region);
}

/**
 * Both FAT copies, chunk by chunk, each chunk generated once. Entries past the last used
 * cluster are free (0) and not written: the region reads as zeros already.
 */
async function writeFats(w: BlockWriter, plan: FatPlan, offset: number): Promise<void> {
  const chains = listChains(plan);
  const used = plan.usedClusters + 2;
  // FAT12 packs entries across byte pairs: generate it whole (at most 6 KiB).
  const chunk = plan.fatType === 12 ? used : FAT_CHUNK_ENTRIES;
  const entryBytes = plan.fatType === 32 ? 4 : 2;
  const values = new Uint32Array(chunk);
  for (let from = 0; from < used; from += chunk) {
    const to = Math.min(used, from + chunk);
    fillFatEntries(plan, chains, from, to, values);
    const packed = packFatEntries(plan.fatType, values, to - from);
    for (let copy = 0; copy < plan.numFats; copy++) {
      await w.seek(offset + (plan.reservedSectors + copy * plan.fatSectors) * SECTOR_BYTES + from * entryBytes);
      await w.writeBytes(packed);
    }
  }
}

function parentsOf(plan: FatPlan): Map<PlanDir, PlanDir> {
  const parents = new Map<PlanDir, PlanDir>();
  for (const d of plan.dirs) for (const c of d.children) if (c.kind === "dir") parents.set(c, d);
  return parents;
}

async function writeDirectories(w: BlockWriter, plan: FatPlan, offset: number): Promise<void> {
  const parents = parentsOf(plan);
  if (plan.fatType !== 32) {
    const rootStart = offset + (plan.reservedSectors + plan.numFats * plan.fatSectors) * SECTOR_BYTES;
    await w.seek(rootStart);
    await w.writeBytes(encodeDirectory(plan, plan.root, undefined, plan.rootDirSectors * SECTOR_BYTES));
  }
  for (const d of plan.dirs) {
    if (!d.clusters) continue;
    await w.seek(clusterOffset(plan, offset, d.firstCluster));
    await w.writeBytes(encodeDirectory(plan, d, parents.get(d), d.clusters * plan.clusterBytes));
  }
}

/** Files given as bytes (the media configuration and such) go in with the metadata. */
async function writeInlineFiles(w: BlockWriter, plan: FatPlan, offset: number): Promise<void> {
  for (const f of plan.files) {
    if (f.source.kind !== "bytes") continue;
    if (f.source.data.length !== f.size) throw changedSize(f, `${f.source.data.length} bytes`);
    if (!f.clusters) continue;
    await w.seek(clusterOffset(plan, offset, f.firstCluster));
    await w.writeBytes(f.source.data);
  }
}

/** The coded error for a payload the copier could not place. */
function payloadError(failure: PayloadFailure, f: PlanFile): BootmediaError {
  const path = (f.source as { path: string }).path;
  const { kind, code, at } = failure;
  if (kind === "shrank") return changedSize(f, `${at} bytes`);
  if (kind === "grew") return changedSize(f, "more bytes");
  if (kind === "write")
    return new BootmediaError("BM4202", `Writing the FAT image failed (${f.path}): ${code}`, { where: f.path });
  return new BootmediaError("BM4203", `Cannot read ${path} (for ${f.path}): ${code ?? kind}`, { where: path });
}

function changedSize(f: PlanFile, actual: string): BootmediaError {
  return new BootmediaError("BM4201", `${f.path} was planned as ${f.size} bytes but its source now has ${actual}.`, {
    where: f.path,
  });
}
