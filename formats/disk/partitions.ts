/**
 * The partition table of a whole-disk image, read from its first bytes (a decompressing
 * stream hands over only its head): a GPT behind its protective MBR (UEFI 2.10 §5.3, 512- or
 * 4096-byte sectors) or an MBR's four primary entries (UEFI §5.2.1; an extended partition is
 * reported as one partition, its logical ones are not walked). The bytes are untrusted:
 * every count, size and position is bounded, both CRC32s checked, partitions must lie inside
 * the usable area and not overlap; what the table claims beyond the image is BM4221.
 */
import { crc32 } from "node:zlib";
import { BootmediaError } from "../../base/errors.ts";
import { isFatBootSector } from "../fat/read.ts";
import { decodeRecord } from "../record.ts";
import { decodeGuid, GPT_ENTRY, GPT_HEADER, GPT_SIGNATURE } from "./gpt.ts";
import { decodeMbr, MBR_BYTES, PARTITION_TYPES } from "./mbr.ts";
import "./codes.ts";

export const PARTITION_TABLE_KINDS = ["gpt", "mbr"] as const;
export type PartitionTableKind = (typeof PARTITION_TABLE_KINDS)[number];

/** Partition type GUIDs (UEFI §5.3.3 Table 5-7; the Discoverable Partitions Specification for Linux). */
export const GPT_TYPES = {
  EFI_SYSTEM: "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
  BIOS_BOOT: "21686148-6449-6e6f-744e-656564454649",
  LINUX_FILESYSTEM: "0fc63daf-8483-4772-8e79-3d69d8477de4",
  LINUX_ROOT_X86: "44479540-f297-41b2-9af7-d131d5f0458a",
  LINUX_ROOT_X64: "4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
} as const;
/** MBR type bytes as partitions report them. */
export const MBR_TYPES = { EFI_SYSTEM: "0xef", LINUX: "0x83" } as const;
const MBR_EXTENDED = [0x05, 0x0f, 0x85];

export interface Partition {
  /** GPT entry number or MBR slot, from 1. */
  index: number;
  /** Bytes from the start of the disk. */
  start: number;
  size: number;
  /** GPT type GUID (lower-case) or the MBR type byte ("0x83"). */
  type: string;
  /** GPT only: the entry's name and unique GUID (lower-case). */
  name?: string;
  guid?: string;
  /** MBR only: the active flag; an extended partition (its logical partitions are not read). */
  bootable?: boolean;
  extended?: boolean;
}

export interface PartitionTable {
  kind: PartitionTableKind;
  sectorSize: number;
  /** GPT disk GUID (lower-case), or the MBR disk signature as 8 hex digits. */
  diskId: string;
  partitions: Partition[];
  /** The MBR (or protective MBR) holds boot code: BIOS boots the disk through it. */
  mbrBootCode: boolean;
  /** GPT only (LBAs of `sectorSize`): the usable area and the backup header's place. */
  firstUsableLba?: number;
  lastUsableLba?: number;
  backupLba?: number;
}

/** GPT header revisions 1.x (UEFI §5.3.2: 0x00010000). */
const GPT_MAJOR_REVISION = 1;
/** The largest entry array read (libfdisk's limit is the same order): 128 entries take 16 KiB. */
const MAX_ENTRY_ARRAY_BYTES = 1024 * 1024;
const SECTOR_SIZES = [512, 4096] as const;

type Errors = ReturnType<typeof errorsFor>;

function errorsFor(where: string) {
  return {
    none: (why: string) =>
      new BootmediaError("BM4205", `no partition table: ${why}`, {
        where,
        hint: "A disk image starts with a partition table (GPT or MBR) before its partitions: check the path, and give the image of the whole disk, not of one partition or file system.",
      }),
    damaged: (why: string) => new BootmediaError("BM4220", why, { where }),
    tooLarge: (why: string) => new BootmediaError("BM4221", why, { where }),
  };
}

/**
 * Reads the table from `head` (the image's first bytes: 1 MiB holds any sane table) of an
 * image of `diskBytes` bytes; `where` names the image in errors (their `where`, not their message).
 */
export function readPartitionTable(head: Buffer, diskBytes: number, where: string): PartitionTable {
  const err = errorsFor(where);
  if (head.length < MBR_BYTES) throw err.none(`it is shorter than one sector (${head.length} bytes)`);
  const sector0 = head.subarray(0, MBR_BYTES);
  const mbr = decodeMbr(sector0);
  if (!mbr.valid) throw err.none("no boot signature 0x55AA at byte 510");
  if (isFatBootSector(sector0)) throw err.none("it starts with a FAT file system (no table around it)");
  const mbrBootCode = mbr.bootCode.some((b) => b !== 0);
  if (mbr.partitions.some((p) => p.type === PARTITION_TYPES.GPT_PROTECTIVE))
    return readGpt(head, diskBytes, mbrBootCode, err);
  return readMbr(sector0, diskBytes, mbrBootCode, err);
}

function readMbr(sector0: Buffer, diskBytes: number, mbrBootCode: boolean, err: Errors): PartitionTable {
  const mbr = decodeMbr(sector0);
  const flags = [0, 1, 2, 3].map((i) => sector0[446 + i * 16]!);
  const badFlag = flags.findIndex((f) => f !== 0 && f !== 0x80);
  if (badFlag >= 0)
    throw err.none(
      `MBR entry ${badFlag + 1} has boot flag 0x${flags[badFlag]!.toString(16)} (only 0x00 or 0x80 are valid)`,
    );
  if (mbr.partitions.length === 0) throw err.none("the MBR lists no partition");
  const sectors = Math.floor(diskBytes / MBR_BYTES);
  const partitions: Partition[] = mbr.partitions.map((p) => {
    if (p.startLba === 0) throw err.damaged(`MBR partition ${p.index} starts at sector 0, over the MBR itself`);
    if (p.startLba + p.sectors > sectors)
      throw err.tooLarge(
        `MBR partition ${p.index} ends at sector ${p.startLba + p.sectors}, past the image's ${sectors} sectors`,
      );
    return {
      index: p.index,
      start: p.startLba * MBR_BYTES,
      size: p.sectors * MBR_BYTES,
      type: `0x${p.type.toString(16).padStart(2, "0")}`,
      bootable: p.bootable,
      ...(MBR_EXTENDED.includes(p.type) ? { extended: true } : {}),
    };
  });
  assertNoOverlap(partitions, "MBR", err);
  return {
    kind: "mbr",
    sectorSize: MBR_BYTES,
    diskId: mbr.diskSignature.toString(16).padStart(8, "0"),
    partitions,
    mbrBootCode,
  };
}

/** A u64 LBA as a number; past 2^53 it cannot describe an image anyway. */
function lba(v: bigint, what: string, err: Errors): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw err.damaged(`GPT ${what} ${v} is out of range`);
  return Number(v);
}

/** The sector size whose LBA 1 holds "EFI PART": 512 first, else 4096 (4Kn disks). */
function gptSectorSize(head: Buffer, err: Errors): number {
  for (const ss of SECTOR_SIZES)
    if (head.length >= ss + GPT_HEADER.size && decodeRecord(GPT_HEADER, head, ss).signature === GPT_SIGNATURE)
      return ss;
  throw err.damaged("the protective MBR announces a GPT, but no GPT header (EFI PART) is at LBA 1");
}

function readGpt(head: Buffer, diskBytes: number, mbrBootCode: boolean, err: Errors): PartitionTable {
  const ss = gptSectorSize(head, err);
  const h = decodeRecord(GPT_HEADER, head, ss);
  if (h.revision >>> 16 !== GPT_MAJOR_REVISION)
    throw err.damaged(`GPT header revision 0x${h.revision.toString(16)} is not 1.x`);
  if (h.headerSize < GPT_HEADER.size || h.headerSize > ss)
    throw err.damaged(`GPT header size ${h.headerSize} is not between ${GPT_HEADER.size} and ${ss}`);
  const headerBytes = Buffer.from(head.subarray(ss, ss + h.headerSize));
  headerBytes.writeUInt32LE(0, GPT_HEADER.fields.headerCrc.offset);
  if (crc32(headerBytes) !== h.headerCrc) throw err.damaged("the GPT header's CRC32 does not match its bytes");

  const sectors = Math.floor(diskBytes / ss);
  const my = lba(h.myLba, "header LBA", err);
  const backup = lba(h.alternateLba, "backup header LBA", err);
  const firstUsable = lba(h.firstUsableLba, "first usable LBA", err);
  const lastUsable = lba(h.lastUsableLba, "last usable LBA", err);
  const entriesLba = lba(h.entriesLba, "entry array LBA", err);
  if (my !== 1) throw err.damaged(`the primary GPT header says it lies at LBA ${my}, not 1`);
  if (backup >= sectors)
    throw err.tooLarge(`the GPT backup header is at LBA ${backup}, past the image's last sector (${sectors - 1})`);
  if (lastUsable >= sectors)
    throw err.tooLarge(`the GPT's last usable LBA ${lastUsable} lies past the image's last sector (${sectors - 1})`);
  if (firstUsable > lastUsable || backup <= lastUsable)
    throw err.damaged(
      `the GPT's usable area (LBA ${firstUsable}..${lastUsable}) and backup header (LBA ${backup}) contradict each other`,
    );
  if (h.entrySize < GPT_ENTRY.size || h.entrySize % 8 !== 0 || h.entrySize > ss)
    throw err.damaged(`GPT entry size ${h.entrySize} is not a multiple of 8 from ${GPT_ENTRY.size} to ${ss}`);
  const arrayBytes = h.entryCount * h.entrySize;
  if (arrayBytes > MAX_ENTRY_ARRAY_BYTES)
    throw err.damaged(
      `the GPT claims ${h.entryCount} entries of ${h.entrySize} bytes (${arrayBytes} bytes; at most ${MAX_ENTRY_ARRAY_BYTES} are read)`,
    );
  const arrayEnd = entriesLba * ss + arrayBytes;
  if (entriesLba < 2 || Math.ceil(arrayEnd / ss) > firstUsable)
    throw err.damaged(
      `the GPT entry array (LBA ${entriesLba}, ${arrayBytes} bytes) must lie between the header and the first usable LBA ${firstUsable}`,
    );
  if (arrayEnd > head.length)
    throw err.damaged(`the GPT entry array ends at byte ${arrayEnd}, past the ${head.length} bytes read`);
  const array = head.subarray(entriesLba * ss, arrayEnd);
  if (crc32(array) !== h.entriesCrc) throw err.damaged("the GPT entry array's CRC32 does not match its bytes");

  const partitions: Partition[] = [];
  for (let i = 0; i < h.entryCount; i++) {
    const e = decodeRecord(GPT_ENTRY, array, i * h.entrySize);
    if (e.typeGuid.every((b) => b === 0)) continue;
    const first = lba(e.firstLba, `partition ${i + 1} first LBA`, err);
    const last = lba(e.lastLba, `partition ${i + 1} last LBA`, err);
    if (last >= sectors)
      throw err.tooLarge(`GPT partition ${i + 1} ends at LBA ${last}, past the image's last sector (${sectors - 1})`);
    if (first > last || first < firstUsable || last > lastUsable)
      throw err.damaged(
        `GPT partition ${i + 1} (LBA ${first}..${last}) lies outside the usable area (LBA ${firstUsable}..${lastUsable})`,
      );
    partitions.push({
      index: i + 1,
      start: first * ss,
      size: (last - first + 1) * ss,
      type: decodeGuid(e.typeGuid).toLowerCase(),
      name: decodeName(e.name),
      guid: decodeGuid(e.uniqueGuid).toLowerCase(),
    });
  }
  if (partitions.length === 0) throw err.none("the GPT lists no partition");
  assertNoOverlap(partitions, "GPT", err);
  return {
    kind: "gpt",
    sectorSize: ss,
    diskId: decodeGuid(h.diskGuid).toLowerCase(),
    partitions,
    mbrBootCode,
    firstUsableLba: firstUsable,
    lastUsableLba: lastUsable,
    backupLba: backup,
  };
}

/** A GPT name: UTF-16LE up to the first NUL (UEFI §5.3.3: 36 code units). */
function decodeName(b: Buffer): string {
  let end = 0;
  while (end + 1 < b.length && (b[end] !== 0 || b[end + 1] !== 0)) end += 2;
  return b.toString("utf16le", 0, end);
}

function assertNoOverlap(partitions: readonly Partition[], kind: string, err: Errors): void {
  const sorted = [...partitions].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!,
      b = sorted[i]!;
    if (b.start < a.start + a.size) throw err.damaged(`${kind} partitions ${a.index} and ${b.index} overlap`);
  }
}
