/**
 * writeUsbImage: a bootable USB disk image — MBR with one active FAT32 (0x0C, LBA) partition
 * at 1 MiB, GRUB's BIOS boot code in the MBR and core.img in the gap, UEFI boot files as
 * plain files on the partition. The payloads start copying while the disk is planned (from
 * a guess checked against the plan); a plan that fails deletes the file, so no half-written
 * image is left. Files of 4 GiB and more and content too big for the size are refused before
 * anything is copied.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { close, ftruncate, open, unlink, write } from "node:fs";
import { promisify } from "node:util";
import { BootmediaError, isBootmediaError } from "../../base/errors.ts";
import type { TreeEntry } from "../../base/tree.ts";
import { adoptEarlyCopy, startEarlyCopy, stopEarlyCopy, type EarlyCopy } from "../fat/early-copy.ts";
import { planFat, type FatOptions, type FatPlan } from "../fat/plan.ts";
import { writeFatVolume } from "../fat/write.ts";
import { encodeMbr, MBR_BYTES, PARTITION_TYPES, type MbrPartition } from "./mbr.ts";
import { checkGrubImages, embedGrubBios } from "./grub.ts";
import "./codes.ts";
import "../fat/codes.ts";

const openAsync = promisify(open);
const closeAsync = promisify(close);
const writeAsync = promisify(write);
const ftruncateAsync = promisify(ftruncate);
const unlinkAsync = promisify(unlink);

/** 1 MiB: the alignment every partitioning tool uses, and room for GRUB's core.img. */
export const PARTITION_START_LBA = 2048;
const SECTOR = 512;
const MIB = 2 ** 20;
/** Left free after the partition, so tools may convert the MBR to GPT (its backup header lives there). */
const DISK_TAIL_BYTES = MIB;

interface UsbImageOptions {
  sourceDateEpoch: number;
  label?: string;
  /** Whole disk size (MBR gap + partition); a multiple of 1 MiB. Left out: sized from content. */
  sizeBytes?: number;
  /** GRUB i386-pc images (file paths): boot.img goes to the MBR, core.img after it. */
  bios?: { bootImg: string; coreImg: string };
  onProgress?: (done: number, total: number) => void;
}

interface UsbImagePlan {
  totalBytes: number;
  diskSignature: number;
  partition: MbrPartition;
  biosBoot: boolean;
  coreImgBytes?: number;
  fat: FatPlan;
}

/** Disk signature from the epoch and label: stable across rebuilds, never 0 (0 means "none"). */
function deriveDiskSignature(epoch: number, label: string | undefined): number {
  const v = createHash("sha256")
    .update(`bootmedia-mbr:${epoch}:${label ?? ""}`)
    .digest()
    .readUInt32LE(0);
  return v || 1;
}

async function readGrubImages(bios: NonNullable<UsbImageOptions["bios"]>): Promise<{ boot: Buffer; core: Buffer }> {
  const load = (p: string) =>
    readFile(p).catch((cause: Error) => {
      throw new BootmediaError("BM3208", `Cannot read the GRUB image ${p}: ${cause.message}`, { where: p, cause });
    });
  const [boot, core] = await Promise.all([load(bios.bootImg), load(bios.coreImg)]);
  checkGrubImages(boot, core, PARTITION_START_LBA, { boot: bios.bootImg, core: bios.coreImg });
  return { boot, core };
}

/** The FAT32 partition's options: the disk less the MBR gap and the tail. */
function fatOptions(opts: UsbImageOptions): FatOptions {
  return {
    label: opts.label,
    sourceDateEpoch: opts.sourceDateEpoch,
    fatType: 32,
    onProgress: opts.onProgress,
    sizeBytes:
      opts.sizeBytes === undefined ? undefined : opts.sizeBytes - PARTITION_START_LBA * SECTOR - DISK_TAIL_BYTES,
  };
}

/** Plans the whole disk (throws coded errors, writes nothing). */
export async function planUsbImage(
  entries: TreeEntry[],
  opts: UsbImageOptions,
): Promise<{ plan: UsbImagePlan; grub?: { boot: Buffer; core: Buffer } }> {
  const grub = opts.bios ? await readGrubImages(opts.bios) : undefined;
  const gap = PARTITION_START_LBA * SECTOR;
  if (opts.sizeBytes !== undefined && (opts.sizeBytes % MIB !== 0 || opts.sizeBytes <= gap + DISK_TAIL_BYTES)) {
    throw new BootmediaError(
      "BM3206",
      `A USB image size must be a multiple of 1 MiB above 2 MiB; ${opts.sizeBytes} is not.`,
    );
  }
  const fat = planFat(entries, fatOptions(opts));
  const partition: MbrPartition = {
    bootable: true,
    type: PARTITION_TYPES.FAT32_LBA,
    startLba: PARTITION_START_LBA,
    sectors: fat.totalSectors,
  };
  return {
    plan: {
      totalBytes: gap + fat.totalBytes + DISK_TAIL_BYTES,
      diskSignature: deriveDiskSignature(opts.sourceDateEpoch, opts.label),
      partition,
      biosBoot: !!grub,
      coreImgBytes: grub?.core.length,
      fat,
    },
    grub,
  };
}

export async function writeUsbImage(
  entries: TreeEntry[],
  opts: UsbImageOptions,
  outPath: string,
): Promise<UsbImagePlan> {
  let fd: number;
  try {
    fd = await openAsync(outPath, "w");
  } catch (cause) {
    throw new BootmediaError("BM4202", `Cannot create ${outPath}: ${(cause as Error).message}`, {
      where: outPath,
      cause,
    });
  }
  const volumeStart = PARTITION_START_LBA * SECTOR;
  let early: EarlyCopy | undefined;
  try {
    // Payloads start copying while the disk is planned (see formats/fat/early-copy.ts).
    early = startEarlyCopy(entries, fatOptions(opts), fd, volumeStart);
    const { plan, grub } = await planUsbImage(entries, opts);
    early = await adoptEarlyCopy(early, plan.fat, fd, volumeStart);
    await ftruncateAsync(fd, plan.totalBytes);
    let mbr = encodeMbr({ diskSignature: plan.diskSignature, partitions: [plan.partition] });
    if (grub) {
      const embedded = embedGrubBios(mbr, grub.boot, grub.core);
      mbr = embedded.mbr;
      await writeAsync(fd, embedded.core, 0, embedded.core.length, MBR_BYTES);
    }
    await writeAsync(fd, mbr, 0, MBR_BYTES, 0);
    await writeFatVolume(plan.fat, fd, volumeStart, opts.onProgress, early);
    await closeAsync(fd);
    return plan;
  } catch (e) {
    await stopEarlyCopy(early);
    await closeAsync(fd).catch(() => {});
    await unlinkAsync(outPath).catch(() => {});
    if (isBootmediaError(e)) throw e;
    throw new BootmediaError("BM4202", `Writing ${outPath} failed: ${(e as Error).message}`, {
      where: outPath,
      cause: e,
    });
  }
}
