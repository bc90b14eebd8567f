/**
 * readDisk: the partition table, boot code and FAT volume of a disk image (for `bootmedia
 * inspect`). A disk whose first sector is a FAT boot sector holds a bare file system (as
 * `bootmedia image fat` writes, or a "superfloppy" stick) and is read as one.
 */
import { BootmediaError } from "../../base/errors.ts";
import { ImageFile } from "../image-file.ts";
import { isFatBootSector, readFat, type FatInfo } from "../fat/read.ts";
import { decodeRecord } from "../record.ts";
import { decodeMbr, MBR, MBR_BYTES, MBR_SIGNATURE, PARTITION_TYPES } from "./mbr.ts";
import { GRUB_BOOT_IMG, isGrubBootCode } from "./grub.ts";
import { readPartitionTable, type Partition } from "./partitions.ts";
import "./codes.ts";

interface DiskInfo {
  sizeBytes: number;
  /** "mbr", or "none" when the disk is a bare FAT file system. */
  partitionTable: "mbr" | "none";
  diskSignature?: number;
  partitions: Array<{ index: number; bootable: boolean; type: number; startLba: number; sectors: number }>;
  bootCode: { present: boolean; grub: boolean; grubCoreLba?: number };
  /** The first FAT partition's file system (partition 0: the whole disk), when one is found. */
  fat?: FatInfo & { partition: number; offset: number };
  /** The GPT behind a protective MBR (an OS image, a deployed disk), or why it could not be read. */
  gpt?: { diskGuid: string; partitions: Partition[] } | { error: string };
}

/** Bytes read for a GPT: its header and a 128-entry array with 4096-byte sectors fit in 24 KiB. */
const GPT_HEAD_BYTES = 64 * 1024;

const FAT_PARTITION_TYPES: readonly number[] = [
  0x01,
  0x04,
  0x06,
  0x0b,
  PARTITION_TYPES.FAT32_LBA,
  0x0e,
  PARTITION_TYPES.EFI_SYSTEM,
];
const SECTOR = 512;

/** The first sector of an image and the image size (BM4205 when there is no whole sector). */
export async function readFirstSector(path: string): Promise<{ sector: Buffer; sizeBytes: number }> {
  const errors = {
    cannotOpen: (cause: Error) =>
      new BootmediaError("BM4205", `Cannot open ${path}: ${cause.message}`, { where: path, cause }),
    damaged: (message: string) =>
      new BootmediaError("BM4205", `${path} has no partition table: ${message}`, { where: path }),
  };
  return ImageFile.with(path, errors, async (img) => ({
    sector: await img.read(0, MBR_BYTES, "first sector"),
    sizeBytes: img.size,
  }));
}

/** True when the first sector ends with the boot signature 0x55AA (an MBR or a FAT boot sector). */
export function hasBootSignature(sector: Buffer): boolean {
  return sector.length >= MBR_BYTES && decodeRecord(MBR, sector).Signature === MBR_SIGNATURE;
}

/** The GPT of a disk whose MBR announces one; damage is reported, not thrown (inspect shows what it can). */
async function readGptOf(path: string, sizeBytes: number): Promise<DiskInfo["gpt"]> {
  const errors = {
    cannotOpen: (cause: Error) => new BootmediaError("BM4205", `Cannot open ${path}: ${cause.message}`, { cause }),
    damaged: (message: string) => new BootmediaError("BM4220", `${path}: ${message}`),
  };
  const head = await ImageFile.with(path, errors, (img) =>
    img.read(0, Math.min(GPT_HEAD_BYTES, img.size), "the partition table"),
  );
  try {
    const t = readPartitionTable(head, sizeBytes, path);
    return { diskGuid: t.diskId, partitions: t.partitions };
  } catch (e) {
    if (e instanceof BootmediaError) return { error: `${e.code} ${e.message}` }; // the path is the report's own
    throw e;
  }
}

export async function readDisk(path: string): Promise<DiskInfo> {
  const { sector, sizeBytes } = await readFirstSector(path);
  if (isFatBootSector(sector)) {
    const fat = await readFat(path, 0);
    return {
      sizeBytes,
      partitionTable: "none",
      partitions: [],
      bootCode: { present: false, grub: false },
      fat: { ...fat, partition: 0, offset: 0 },
    };
  }
  const mbr = decodeMbr(sector);
  if (!mbr.valid) throw new BootmediaError("BM4205", `${path} has no MBR signature.`, { where: path });
  const grub = isGrubBootCode(sector);
  const info: DiskInfo = {
    sizeBytes,
    partitionTable: "mbr",
    diskSignature: mbr.diskSignature,
    partitions: mbr.partitions,
    bootCode: {
      present: mbr.bootCode.some((b) => b !== 0),
      grub,
      grubCoreLba: grub ? Number(decodeRecord(GRUB_BOOT_IMG, sector).KernelSector) : undefined,
    },
  };
  if (mbr.partitions.some((p) => p.type === PARTITION_TYPES.GPT_PROTECTIVE))
    info.gpt = await readGptOf(path, sizeBytes);
  const part = mbr.partitions.find((p) => FAT_PARTITION_TYPES.includes(p.type));
  if (part)
    info.fat = {
      ...(await readFat(path, part.startLba * SECTOR)),
      partition: part.index,
      offset: part.startLba * SECTOR,
    };
  return info;
}
