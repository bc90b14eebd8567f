/** readDisk: the partition table, boot code and FAT volume of a disk image (for `bootmedia inspect`). */
import { open } from "node:fs/promises";
import { BootmediaError } from "../../base/errors.ts";
import { readFat, type FatInfo } from "../fat/read.ts";
import { decodeMbr, MBR_BYTES, PARTITION_TYPES } from "./mbr.ts";
import { GRUB_BOOT_IMG, isGrubBootCode } from "./grub.ts";
import { decodeRecord } from "../record.ts";

export interface DiskInfo {
  sizeBytes: number;
  diskSignature: number;
  partitions: Array<{ index: number; bootable: boolean; type: number; startLba: number; sectors: number }>;
  bootCode: { present: boolean; grub: boolean; grubCoreLba?: number };
  /** The first FAT partition's file system, when one is found. */
  fat?: FatInfo & { partition: number };
}

const FAT_PARTITION_TYPES: readonly number[] = [0x01, 0x04, 0x06, 0x0b, PARTITION_TYPES.FAT32_LBA, 0x0e, PARTITION_TYPES.EFI_SYSTEM];

export async function readDisk(path: string): Promise<DiskInfo> {
  const fh = await open(path, "r").catch((cause: Error) => {
    throw new BootmediaError("BM4205", `Cannot open ${path}: ${cause.message}`, { where: path, cause });
  });
  let sector: Buffer, sizeBytes: number;
  try {
    sector = Buffer.alloc(MBR_BYTES);
    await fh.read(sector, 0, MBR_BYTES, 0);
    sizeBytes = (await fh.stat()).size;
  } finally {
    await fh.close();
  }
  const mbr = decodeMbr(sector);
  if (!mbr.valid) throw new BootmediaError("BM4205", `${path} has no MBR signature.`, { where: path });
  const grub = isGrubBootCode(sector);
  const info: DiskInfo = {
    sizeBytes, diskSignature: mbr.diskSignature, partitions: mbr.partitions,
    bootCode: { present: mbr.bootCode.some((b) => b !== 0), grub, grubCoreLba: grub ? Number(decodeRecord(GRUB_BOOT_IMG, sector, 0).KernelSector) : undefined },
  };
  const part = mbr.partitions.find((p) => FAT_PARTITION_TYPES.includes(p.type));
  if (part) info.fat = { ...(await readFat(path, part.startLba * 512)), partition: part.index };
  return info;
}
