/**
 * writeFat: plans a volume (all coded validation first), then streams it out in disk order:
 * boot sectors, both FATs, the FAT12/16 root region, directory clusters, file data.
 */
import { close, closeSync, fstat, fstatSync, ftruncate, open, openSync, unlink } from "node:fs";
import { promisify } from "node:util";
import { BootmediaError, isBootmediaError } from "../../core/errors.ts";
import { BlockWriter } from "./block-writer.ts";
import {
  encodeBootSector, encodeDirectory, encodeFsInfo, FAT32_BACKUP_BOOT_SECTOR, FAT32_FSINFO_SECTOR, fillFatEntries,
  listChains, packFatEntries,
} from "./encode.ts";
import { planFat, type FatOptions, type FatPlan, type PlanDir, type PlanFile } from "./plan.ts";
import { SECTOR_BYTES } from "./structures.ts";
import type { TreeEntry } from "../tree.ts";

const openAsync = promisify(open);
const closeAsync = promisify(close);
const fstatAsync = promisify(fstat);
const ftruncateAsync = promisify(ftruncate);
const unlinkAsync = promisify(unlink);

/** FAT entries generated per chunk: 1 MiB of FAT32 at a time keeps memory flat on big volumes. */
const FAT_CHUNK_ENTRIES = 256 * 1024;

export type FatOutput = string | { fd: number; offset: number };

export async function writeFat(entries: TreeEntry[], opts: FatOptions, out: FatOutput): Promise<FatPlan> {
  const plan = planFat(entries, opts);
  if (typeof out !== "string") {
    await writeFatVolume(plan, out.fd, out.offset, opts.onProgress);
    return plan;
  }
  let fd: number;
  try { fd = await openAsync(out, "w"); } catch (cause) {
    throw new BootmediaError("BM4202", `Cannot create ${out}: ${(cause as Error).message}`, { where: out, cause });
  }
  try {
    await ftruncateAsync(fd, plan.totalBytes); // sparse: free clusters read as zeros without being written
    await writeFatVolume(plan, fd, 0, opts.onProgress);
    await closeAsync(fd);
  } catch (e) {
    await closeAsync(fd).catch(() => {});
    await unlinkAsync(out).catch(() => {});
    throw e;
  }
  return plan;
}

/** Writes a planned volume at byte `offset` of an open file (free clusters are left as they are). */
export async function writeFatVolume(plan: FatPlan, fd: number, offset: number, onProgress?: (done: number, total: number) => void): Promise<void> {
  if (offset % SECTOR_BYTES !== 0) throw new Error(`FAT volume offset ${offset} is not sector-aligned`);
  const w = new BlockWriter(fd);
  try {
    await writeReservedRegion(w, plan, offset);
    await writeFats(w, plan, offset);
    await writeDirectories(w, plan, offset);
    await writeFileData(w, plan, offset, onProgress);
    await w.close();
  } catch (e) {
    await w.close().catch(() => {});
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

/** Both FAT copies, chunk by chunk; the tail of the last FAT sector past the clusters stays 0. */
async function writeFats(w: BlockWriter, plan: FatPlan, offset: number): Promise<void> {
  const chains = listChains(plan);
  const fatBytes = plan.fatSectors * SECTOR_BYTES;
  const entries = plan.clusterCount + 2;
  // FAT12 packs entries across byte pairs: generate it whole (at most 6 KiB).
  const chunk = plan.fatType === 12 ? entries : FAT_CHUNK_ENTRIES;
  const values = new Uint32Array(chunk);
  for (let copy = 0; copy < plan.numFats; copy++) {
    const fatStart = offset + (plan.reservedSectors + copy * plan.fatSectors) * SECTOR_BYTES;
    await w.seek(fatStart);
    for (let from = 0; from < entries; from += chunk) {
      const to = Math.min(entries, from + chunk);
      fillFatEntries(plan, chains, from, to, values);
      await w.writeBytes(packFatEntries(plan.fatType, values, to - from));
    }
    await w.writeZeros(fatStart + fatBytes - w.position);
  }
}

function parentsOf(plan: FatPlan): Map<PlanDir, PlanDir> {
  const parents = new Map<PlanDir, PlanDir>();
  for (const d of plan.dirs) for (const c of d.children) if (c.kind === "dir") parents.set(c, d);
  return parents;
}

function clusterOffset(plan: FatPlan, offset: number, cluster: number): number {
  return offset + (plan.firstDataSector + (cluster - 2) * plan.sectorsPerCluster) * SECTOR_BYTES;
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

async function writeFileData(w: BlockWriter, plan: FatPlan, offset: number, onProgress?: (done: number, total: number) => void): Promise<void> {
  let done = 0;
  const report = (n: number) => { done += n; onProgress?.(done, plan.fileBytes); };
  for (const f of plan.files) {
    if (!f.clusters) { await checkEmptySource(f); continue; }
    await w.seek(clusterOffset(plan, offset, f.firstCluster));
    if (f.source.kind === "bytes") {
      if (f.source.data.length !== f.size) throw changedSize(f, f.source.data.length);
      await w.writeBytes(f.source.data);
      report(f.size);
    } else {
      await copySourceFile(w, f, f.source.path, report);
    }
    await w.writeZeros(f.clusters * plan.clusterBytes - f.size); // cluster tail: zeros, for reproducible images
  }
}

async function copySourceFile(w: BlockWriter, f: PlanFile, path: string, report: (n: number) => void): Promise<void> {
  let src: number;
  // Synchronous open/stat/close: one thread-pool round trip each would dominate small files.
  try { src = openSync(path, "r"); } catch (cause) {
    throw new BootmediaError("BM4203", `Cannot read ${path} (for ${f.path}): ${(cause as Error).message}`, { where: path, cause });
  }
  try {
    const { size } = fstatSync(src);
    if (size !== f.size) throw changedSize(f, size);
    const got = await w.copyFrom(src, f.size, report);
    if (got !== f.size) throw changedSize(f, got);
  } finally {
    closeSync(src);
  }
}

async function checkEmptySource(f: PlanFile): Promise<void> {
  if (f.source.kind === "bytes") {
    if (f.source.data.length !== 0) throw changedSize(f, f.source.data.length);
    return;
  }
  const src = await openAsync(f.source.path, "r").catch((cause: Error) => {
    throw new BootmediaError("BM4203", `Cannot read ${f.source.kind === "file" ? f.source.path : f.path}: ${cause.message}`, { where: f.path, cause });
  });
  try {
    const { size } = await fstatAsync(src);
    if (size !== 0) throw changedSize(f, size);
  } finally {
    await closeAsync(src);
  }
}

function changedSize(f: PlanFile, actual: number): BootmediaError {
  return new BootmediaError("BM4201", `${f.path} was planned as ${f.size} bytes but its source now has ${actual} bytes.`, { where: f.path });
}
