/**
 * The system area of a hybrid image (sectors 0-15): an MBR so the .iso written raw to a USB
 * stick boots in BIOS mode (caller's boot code, e.g. GRUB's boot_hybrid.img) and UEFI mode
 * (an ESP partition over the El Torito EFI image), and optionally a GPT. See README.md.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { MBR, MBR_SIGNATURE, PARTITION_RECORD } from "../disk/mbr.ts";
import { SECTOR } from "./records.ts";
import { defineRecord, encodeRecord, u32le, u64le } from "../record.ts";
import { encodeGuid, GPT_ENTRY, GPT_HEADER } from "../disk/gpt.ts";

const DISK_SECTOR = 512;
/** Primary/backup GPT: 128 entries of 128 bytes = 32 sectors, plus the header (UEFI §5.3). */
const GPT_ENTRIES = 128;
const GPT_ENTRY_SIZE = 128;
const GPT_ENTRY_SECTORS = (GPT_ENTRIES * GPT_ENTRY_SIZE) / DISK_SECTOR;
/** 2048-byte blocks appended for the backup GPT (33 disk sectors, rounded up). */
export const GPT_TAIL_SECTORS = Math.ceil(((GPT_ENTRY_SECTORS + 1) * DISK_SECTOR) / SECTOR);

/** GRUB boot_hybrid.img reads the 512-byte sector of core.img (El Torito image LBA * 4 + 4) from here (grub-mkrescue / xorriso --grub2-mbr). */
export const GRUB2_MBR_PATCH = defineRecord(512, { kernelSector: u64le(0x1b0) });

const MBR_TYPE = { EFI_SYSTEM: 0xef, GPT_PROTECTIVE: 0xee, HIDDEN_IFS: 0x17 } as const;
const GPT_TYPE_EFI_SYSTEM = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

/** A GUID derived from a seed (reproducible builds): SHA-256 with RFC 4122 version 4 / variant bits set. */
function deriveGuid(seed: string): Buffer {
  const b = createHash("sha256").update(seed).digest().subarray(0, 16);
  b[7] = (b[7] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return Buffer.from(b);
}

/** CHS address with the 64 heads x 32 sectors geometry xorriso uses; beyond 1023 cylinders it saturates. */
function encodeChs(lba: number): Buffer {
  const heads = 64,
    spt = 32;
  const cyl = Math.floor(lba / (heads * spt));
  if (cyl > 1023) return Buffer.from([0xfe, 0xff, 0xff]);
  const head = Math.floor(lba / spt) % heads;
  const sector = (lba % spt) + 1;
  return Buffer.from([head, sector | ((cyl >> 2) & 0xc0), cyl & 0xff]);
}

function encodeMbrPartition(status: number, type: number, first: number, sectors: number): Buffer {
  return encodeRecord(PARTITION_RECORD, {
    BootIndicator: status,
    OSType: type,
    StartingCHS: encodeChs(first),
    EndingCHS: encodeChs(first + sectors - 1),
    StartingLBA: first,
    SizeInLBA: sectors,
  });
}

/** ISOLINUX's isohdpfx.bin reads the BIOS image's 512-byte LBA from here (isohybrid; xorriso -isohybrid-mbr). */
export const ISOHYBRID_MBR_PATCH = defineRecord(512, { imageSector: u32le(0x1b0), zero: u32le(0x1b4) });
/** A GPT partition type for appended partitions that are not ESPs (Microsoft basic data, UEFI §5.3.3 / xorriso's choice). */
const GPT_TYPE_BASIC_DATA = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";

interface SystemAreaInput {
  seed: string;
  totalSectors: number;
  /** 2048-byte sectors of the ISO volume (before appended partitions); default totalSectors. */
  isoSectors?: number;
  mbrCode?: Uint8Array;
  /** Where the MBR code finds the BIOS El Torito image (its 2048-byte LBA). */
  mbrPatch?: { kind: "grub2" | "isohybrid"; lba: number };
  esp?: { lba: number; bytes: number };
  gpt: boolean;
  /** MBR partition 1 over the ISO (xorriso's layout with appended partitions / --protective-msdos-label). */
  isoPartition?: { type: number; start: 0 | 1; bootable: boolean };
  /** Appended partitions: their MBR slot, type, 2048-byte LBA and size. */
  appended?: Array<{ number: number; type: number; lba: number; bytes: number }>;
}

interface SystemArea {
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
  // A whole system area (xorriso -G) keeps its bytes after the MBR; a GPT written below replaces them.
  if (input.mbrCode && input.mbrCode.length > DISK_SECTOR)
    Buffer.from(input.mbrCode).subarray(DISK_SECTOR, head.length).copy(head, DISK_SECTOR);
  let parts: Buffer[] = [];
  const perBlock = SECTOR / DISK_SECTOR;
  const espFirst = input.esp ? input.esp.lba * perBlock : 0;
  const espSectors = input.esp ? Math.ceil(input.esp.bytes / DISK_SECTOR) : 0;
  const appended = input.appended ?? [];
  if (!input.gpt && (input.isoPartition || appended.length > 0)) {
    // xorriso's table: slot 1 over the ISO (type 0x00 is ignored by UEFI, so overlapping the ESP is fine), appended partitions in their slots.
    const iso = input.isoPartition ?? { type: MBR_TYPE.HIDDEN_IFS, start: 0, bootable: true };
    const slots: Buffer[] = [
      Buffer.alloc(PARTITION_RECORD.size),
      Buffer.alloc(PARTITION_RECORD.size),
      Buffer.alloc(PARTITION_RECORD.size),
      Buffer.alloc(PARTITION_RECORD.size),
    ];
    const isoDisk = (input.isoSectors ?? input.totalSectors) * perBlock;
    slots[0] = encodeMbrPartition(iso.bootable ? 0x80 : 0, iso.type, iso.start, isoDisk - iso.start);
    for (const a of appended)
      slots[a.number - 1] = encodeMbrPartition(0, a.type, a.lba * perBlock, Math.ceil(a.bytes / DISK_SECTOR));
    if (input.esp && iso.type === 0 && appended.length === 0)
      slots[1] = encodeMbrPartition(0, MBR_TYPE.EFI_SYSTEM, espFirst, espSectors);
    parts = slots;
  } else if (input.gpt) {
    parts.push(encodeMbrPartition(0, MBR_TYPE.GPT_PROTECTIVE, 1, Math.min(diskSectors - 1, 0xffffffff)));
  } else if (input.esp) {
    // Only the ESP: partitions must not overlap or UEFI firmware (EDK2) rejects the whole table.
    parts.push(encodeMbrPartition(input.mbrCode ? 0x80 : 0, MBR_TYPE.EFI_SYSTEM, espFirst, espSectors));
  } else {
    // isohybrid style: one active partition from sector 0 over the whole image, for BIOSes that want one.
    parts.push(encodeMbrPartition(0x80, MBR_TYPE.HIDDEN_IFS, 0, diskSectors));
  }
  const signature = createHash("sha256").update(`${input.seed}:mbr`).digest().readUInt32LE(0);
  encodeRecord(
    MBR,
    {
      BootCode: code,
      UniqueMBRDiskSignature: signature,
      PartitionRecord: Buffer.concat(parts),
      Signature: MBR_SIGNATURE,
    },
    head,
  );
  if (input.mbrPatch?.kind === "grub2")
    encodeRecord(GRUB2_MBR_PATCH, { kernelSector: BigInt(input.mbrPatch.lba * 4 + 4) }, head);
  if (input.mbrPatch?.kind === "isohybrid")
    encodeRecord(ISOHYBRID_MBR_PATCH, { imageSector: input.mbrPatch.lba * 4, zero: 0 }, head);
  if (!input.gpt) return { head };

  const entries = Buffer.alloc(GPT_ENTRIES * GPT_ENTRY_SIZE);
  const gptParts = [
    ...(input.esp
      ? [{ type: GPT_TYPE_EFI_SYSTEM, first: espFirst, sectors: espSectors, seed: "esp", name: "EFI boot partition" }]
      : []),
    ...appended.map((a) => ({
      type: a.type === MBR_TYPE.EFI_SYSTEM ? GPT_TYPE_EFI_SYSTEM : GPT_TYPE_BASIC_DATA,
      first: a.lba * perBlock,
      sectors: Math.ceil(a.bytes / DISK_SECTOR),
      seed: `appended-${a.number}`,
      name: `Appended${a.number}`,
    })),
  ];
  gptParts.forEach((p, i) => {
    encodeRecord(
      GPT_ENTRY,
      {
        typeGuid: encodeGuid(p.type),
        uniqueGuid: deriveGuid(`${input.seed}:${p.seed}`),
        firstLba: BigInt(p.first),
        lastLba: BigInt(p.first + p.sectors - 1),
        attributes: 0n,
        name: Buffer.from(p.name, "utf16le"),
      },
      entries,
      i * GPT_ENTRY_SIZE,
    );
  });
  const last = diskSectors - 1;
  const header = (my: number, alt: number, entriesLba: number) => {
    const h = encodeRecord(GPT_HEADER, {
      signature: "EFI PART",
      revision: 0x00010000,
      headerSize: GPT_HEADER.size,
      headerCrc: 0,
      myLba: BigInt(my),
      alternateLba: BigInt(alt),
      firstUsableLba: BigInt(2 + GPT_ENTRY_SECTORS),
      lastUsableLba: BigInt(last - 1 - GPT_ENTRY_SECTORS),
      diskGuid: deriveGuid(`${input.seed}:disk`),
      entriesLba: BigInt(entriesLba),
      entryCount: GPT_ENTRIES,
      entrySize: GPT_ENTRY_SIZE,
      entriesCrc: crc32(entries),
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
