/**
 * Master Boot Record: boot code, disk signature and four primary partition entries
 * (UEFI 2.10 §5.2.1 "Legacy Master Boot Record", Table 5-1/5-2).
 */
import { bytes, decodeRecord, defineRecord, encodeRecord, u8, u16le, u32le } from "../record.ts";

export const MBR_BYTES = 512;

/** Legacy MBR layout (UEFI §5.2.1 Table 5-1). */
export const MBR = defineRecord(MBR_BYTES, {
  BootCode: bytes(0, 440),
  UniqueMBRDiskSignature: u32le(440),
  Unknown: u16le(444),
  PartitionRecord: bytes(446, 64),
  Signature: u16le(510),
});
export const MBR_SIGNATURE = 0xaa55;
const PARTITION_RECORD_BYTES = 16;

/** One partition record (UEFI §5.2.1 Table 5-2). */
export const PARTITION_RECORD = defineRecord(PARTITION_RECORD_BYTES, {
  BootIndicator: u8(0),
  StartingCHS: bytes(1, 3),
  OSType: u8(4),
  EndingCHS: bytes(5, 3),
  StartingLBA: u32le(8),
  SizeInLBA: u32le(12),
});

export const PARTITION_TYPES = { FAT32_LBA: 0x0c, EFI_SYSTEM: 0xef, GPT_PROTECTIVE: 0xee } as const;
const BOOT_INDICATOR_ACTIVE = 0x80;

export interface MbrPartition {
  bootable: boolean;
  type: number;
  startLba: number;
  sectors: number;
}

/** CHS of an LBA with the 255-head, 63-sector geometry; past cylinder 1023 the "use LBA" maximum. */
function encodeChs(lba: number): Buffer {
  const heads = 255,
    spt = 63;
  let c = Math.floor(lba / (heads * spt)),
    h = Math.floor(lba / spt) % heads,
    s = (lba % spt) + 1;
  if (c > 1023) {
    c = 1023;
    h = 254;
    s = 63;
  }
  return Buffer.from([h, s | ((c >> 2) & 0xc0), c & 0xff]);
}

/** A fresh MBR sector: the given boot code (or zeros), signature and partitions. */
export function encodeMbr(opts: { bootCode?: Uint8Array; diskSignature: number; partitions: MbrPartition[] }): Buffer {
  const buf = Buffer.alloc(MBR_BYTES);
  if (opts.bootCode) buf.set(opts.bootCode.subarray(0, MBR.fields.BootCode.size), 0);
  encodeRecord(MBR, { UniqueMBRDiskSignature: opts.diskSignature, Unknown: 0, Signature: MBR_SIGNATURE }, buf, 0);
  opts.partitions.slice(0, 4).forEach((p, i) => {
    encodeRecord(
      PARTITION_RECORD,
      {
        BootIndicator: p.bootable ? BOOT_INDICATOR_ACTIVE : 0,
        StartingCHS: encodeChs(p.startLba),
        OSType: p.type,
        EndingCHS: encodeChs(p.startLba + p.sectors - 1),
        StartingLBA: p.startLba,
        SizeInLBA: p.sectors,
      },
      buf,
      MBR.fields.PartitionRecord.offset + i * PARTITION_RECORD_BYTES,
    );
  });
  return buf;
}

interface DecodedMbr {
  valid: boolean;
  diskSignature: number;
  partitions: Array<MbrPartition & { index: number }>;
  bootCode: Buffer;
}

export function decodeMbr(sector: Buffer): DecodedMbr {
  const m = decodeRecord(MBR, sector, 0);
  const partitions: DecodedMbr["partitions"] = [];
  for (let i = 0; i < 4; i++) {
    const p = decodeRecord(PARTITION_RECORD, sector, MBR.fields.PartitionRecord.offset + i * PARTITION_RECORD_BYTES);
    if (p.OSType === 0 || p.SizeInLBA === 0) continue;
    partitions.push({
      index: i + 1,
      bootable: p.BootIndicator === BOOT_INDICATOR_ACTIVE,
      type: p.OSType,
      startLba: p.StartingLBA,
      sectors: p.SizeInLBA,
    });
  }
  return {
    valid: m.Signature === MBR_SIGNATURE,
    diskSignature: m.UniqueMBRDiskSignature,
    partitions,
    bootCode: m.BootCode,
  };
}
