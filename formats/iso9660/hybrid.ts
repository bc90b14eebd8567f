/**
 * The system area of a hybrid image (sectors 0-15): an MBR so the .iso written raw to a USB
 * stick boots in BIOS mode (caller's boot code, e.g. GRUB's boot_hybrid.img) and UEFI mode
 * (an ESP partition over the El Torito EFI image), and optionally a GPT. See README.md.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { MBR, MBR_SIGNATURE, PARTITION_RECORD } from "../disk/mbr.ts";
import { SECTOR } from "./records.ts";
import { achars, bytes, decodeRecord, defineRecord, encodeRecord, u16le, u32le, u64le } from "../record.ts";

const DISK_SECTOR = 512;
/** Primary/backup GPT: 128 entries of 128 bytes = 32 sectors, plus the header (UEFI §5.3). */
const GPT_ENTRIES = 128;
const GPT_ENTRY_SIZE = 128;
const GPT_ENTRY_SECTORS = (GPT_ENTRIES * GPT_ENTRY_SIZE) / DISK_SECTOR;
/** 2048-byte blocks appended for the backup GPT (33 disk sectors, rounded up). */
export const GPT_TAIL_SECTORS = Math.ceil(((GPT_ENTRY_SECTORS + 1) * DISK_SECTOR) / SECTOR);

/** GRUB boot_hybrid.img reads the 512-byte sector of core.img (El Torito image LBA * 4 + 4) from here (grub-mkrescue / xorriso --grub2-mbr). */
export const GRUB2_MBR_PATCH = defineRecord(512, { kernelSector: u64le(0x1b0) });

/** GPT header (UEFI §5.3.2, Table 5-5). */
export const GPT_HEADER = defineRecord(92, {
  signature: achars(0, 8),
  revision: u32le(8),
  headerSize: u32le(12),
  headerCrc: u32le(16),
  myLba: u64le(24),
  alternateLba: u64le(32),
  firstUsableLba: u64le(40),
  lastUsableLba: u64le(48),
  diskGuid: bytes(56, 16),
  entriesLba: u64le(72),
  entryCount: u32le(80),
  entrySize: u32le(84),
  entriesCrc: u32le(88),
});

/** GPT partition entry (UEFI §5.3.3, Table 5-6). */
export const GPT_ENTRY = defineRecord(GPT_ENTRY_SIZE, {
  typeGuid: bytes(0, 16),
  uniqueGuid: bytes(16, 16),
  firstLba: u64le(32),
  lastLba: u64le(40),
  attributes: u64le(48),
  name: bytes(56, 72),
});

export const MBR_TYPE = { EFI_SYSTEM: 0xef, GPT_PROTECTIVE: 0xee, HIDDEN_IFS: 0x17 } as const;
export const GPT_TYPE_EFI_SYSTEM = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

/** A GUID on disk: three little-endian numbers, then eight bytes in order (UEFI Appendix A, EFI_GUID). */
const GUID = defineRecord(16, { data1: u32le(0), data2: u16le(4), data3: u16le(6), data4: bytes(8, 8) });

/** GUID text to its on-disk mixed-endian bytes (UEFI Appendix A). */
export function encodeGuid(text: string): Buffer {
  const [d1, d2, d3, d4, d5] = text.split("-");
  return encodeRecord(GUID, { data1: parseInt(d1, 16), data2: parseInt(d2, 16), data3: parseInt(d3, 16), data4: Buffer.from(d4 + d5, "hex") });
}

export function decodeGuid(b: Buffer): string {
  const g = decodeRecord(GUID, b);
  const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, "0");
  const d4 = g.data4.toString("hex").toUpperCase();
  return `${hex(g.data1, 8)}-${hex(g.data2, 4)}-${hex(g.data3, 4)}-${d4.slice(0, 4)}-${d4.slice(4)}`;
}

/** A GUID derived from a seed (reproducible builds): SHA-256 with RFC 4122 version 4 / variant bits set. */
function deriveGuid(seed: string): Buffer {
  const b = createHash("sha256").update(seed).digest().subarray(0, 16);
  b[7] = (b[7] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return Buffer.from(b);
}

/** CHS address with the 64 heads x 32 sectors geometry xorriso uses; beyond 1023 cylinders it saturates. */
function encodeChs(lba: number): Buffer {
  const heads = 64, spt = 32;
  const cyl = Math.floor(lba / (heads * spt));
  if (cyl > 1023) return Buffer.from([0xfe, 0xff, 0xff]);
  const head = Math.floor(lba / spt) % heads;
  const sector = (lba % spt) + 1;
  return Buffer.from([head, sector | ((cyl >> 2) & 0xc0), cyl & 0xff]);
}

function encodeMbrPartition(status: number, type: number, first: number, sectors: number): Buffer {
  return encodeRecord(PARTITION_RECORD, { BootIndicator: status, OSType: type, StartingCHS: encodeChs(first), EndingCHS: encodeChs(first + sectors - 1), StartingLBA: first, SizeInLBA: sectors });
}

export interface SystemAreaInput {
  seed: string;
  totalSectors: number;
  mbrCode?: Uint8Array;
  grub2PatchLba?: number;
  esp?: { lba: number; bytes: number };
  gpt: boolean;
}

export interface SystemArea {
  /** Bytes for the start of the image (16 sectors). */
  head: Buffer;
  /** Bytes for the last GPT_TAIL_SECTORS blocks (backup GPT), when gpt is on. */
  tail?: Buffer;
}

/** Builds the MBR (and GPT) for a hybrid image. */
export function encodeSystemArea(input: SystemAreaInput): SystemArea {
  const head = Buffer.alloc(16 * SECTOR);
  const diskSectors = input.totalSectors * (SECTOR / DISK_SECTOR);
  const code = Buffer.alloc(440);
  if (input.mbrCode) Buffer.from(input.mbrCode).subarray(0, 440).copy(code);
  const parts: Buffer[] = [];
  const espFirst = input.esp ? input.esp.lba * (SECTOR / DISK_SECTOR) : 0;
  const espSectors = input.esp ? Math.ceil(input.esp.bytes / DISK_SECTOR) : 0;
  if (input.gpt) {
    parts.push(encodeMbrPartition(0, MBR_TYPE.GPT_PROTECTIVE, 1, Math.min(diskSectors - 1, 0xffffffff)));
  } else if (input.esp) {
    // Only the ESP: partitions must not overlap or UEFI firmware (EDK2) rejects the whole table.
    parts.push(encodeMbrPartition(input.mbrCode ? 0x80 : 0, MBR_TYPE.EFI_SYSTEM, espFirst, espSectors));
  } else {
    // isohybrid style: one active partition from sector 0 over the whole image, for BIOSes that want one.
    parts.push(encodeMbrPartition(0x80, MBR_TYPE.HIDDEN_IFS, 0, diskSectors));
  }
  const signature = createHash("sha256").update(`${input.seed}:mbr`).digest().readUInt32LE(0);
  encodeRecord(MBR, { BootCode: code, UniqueMBRDiskSignature: signature, PartitionRecord: Buffer.concat(parts), Signature: MBR_SIGNATURE }, head);
  if (input.grub2PatchLba !== undefined) encodeRecord(GRUB2_MBR_PATCH, { kernelSector: BigInt(input.grub2PatchLba * 4 + 4) }, head);
  if (!input.gpt) return { head };

  const entries = Buffer.alloc(GPT_ENTRIES * GPT_ENTRY_SIZE);
  if (input.esp) {
    encodeRecord(GPT_ENTRY, {
      typeGuid: encodeGuid(GPT_TYPE_EFI_SYSTEM), uniqueGuid: deriveGuid(`${input.seed}:esp`),
      firstLba: BigInt(espFirst), lastLba: BigInt(espFirst + espSectors - 1), attributes: 0n,
      name: Buffer.from("EFI boot partition", "utf16le"),
    }, entries);
  }
  const last = diskSectors - 1;
  const header = (my: number, alt: number, entriesLba: number) => {
    const h = encodeRecord(GPT_HEADER, {
      signature: "EFI PART", revision: 0x00010000, headerSize: GPT_HEADER.size, headerCrc: 0,
      myLba: BigInt(my), alternateLba: BigInt(alt), firstUsableLba: BigInt(2 + GPT_ENTRY_SECTORS),
      lastUsableLba: BigInt(last - 1 - GPT_ENTRY_SECTORS), diskGuid: deriveGuid(`${input.seed}:disk`),
      entriesLba: BigInt(entriesLba), entryCount: GPT_ENTRIES, entrySize: GPT_ENTRY_SIZE, entriesCrc: crc32(entries),
    });
    return encodeRecord(GPT_HEADER, { headerCrc: crc32(h) }, h);
  };
  header(1, last, 2).copy(head, DISK_SECTOR);
  entries.copy(head, 2 * DISK_SECTOR);
  const tail = Buffer.alloc(GPT_TAIL_SECTORS * SECTOR);
  const tailFirst = diskSectors - tail.length / DISK_SECTOR;
  entries.copy(tail, (last - GPT_ENTRY_SECTORS - tailFirst) * DISK_SECTOR);
  header(last, 1, last - GPT_ENTRY_SECTORS).copy(tail, (last - tailFirst) * DISK_SECTOR);
  return { head, tail };
}
