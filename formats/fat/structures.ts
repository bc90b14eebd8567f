/**
 * FAT on-disk records, named as in the Microsoft "FAT: General Overview of On-Disk Format"
 * specification (v1.03, "Microsoft FAT spec" below). Offsets are from the record's start.
 */
import { achars, bytes, defineRecord, u8, u16le, u32le } from "../record.ts";

export const SECTOR_BYTES = 512;
export const DIR_ENTRY_BYTES = 32;
export const FAT_TYPES = [12, 16, 32] as const;
export type FatType = (typeof FAT_TYPES)[number];

/** Boot sector and BPB common to all FAT types (Microsoft FAT spec §3.1). */
export const BPB = defineRecord(SECTOR_BYTES, {
  BS_jmpBoot: bytes(0, 3),
  BS_OEMName: achars(3, 8),
  BPB_BytsPerSec: u16le(11),
  BPB_SecPerClus: u8(13),
  BPB_RsvdSecCnt: u16le(14),
  BPB_NumFATs: u8(16),
  BPB_RootEntCnt: u16le(17),
  BPB_TotSec16: u16le(19),
  BPB_Media: u8(21),
  BPB_FATSz16: u16le(22),
  BPB_SecPerTrk: u16le(24),
  BPB_NumHeads: u16le(26),
  BPB_HiddSec: u32le(28),
  BPB_TotSec32: u32le(32),
  Signature_word: u16le(510),
});

/** Extended BPB of FAT12/FAT16 volumes (Microsoft FAT spec §3.2). */
export const BPB16 = defineRecord(SECTOR_BYTES, {
  BS_DrvNum: u8(36),
  BS_Reserved1: u8(37),
  BS_BootSig: u8(38),
  BS_VolID: u32le(39),
  BS_VolLab: achars(43, 11),
  BS_FilSysType: achars(54, 8),
  BootCode: bytes(62, 448),
});

/** Extended BPB of FAT32 volumes (Microsoft FAT spec §3.3). */
export const BPB32 = defineRecord(SECTOR_BYTES, {
  BPB_FATSz32: u32le(36),
  BPB_ExtFlags: u16le(40),
  BPB_FSVer: u16le(42),
  BPB_RootClus: u32le(44),
  BPB_FSInfo: u16le(48),
  BPB_BkBootSec: u16le(50),
  BPB_Reserved: bytes(52, 12),
  BS_DrvNum: u8(64),
  BS_Reserved1: u8(65),
  BS_BootSig: u8(66),
  BS_VolID: u32le(67),
  BS_VolLab: achars(71, 11),
  BS_FilSysType: achars(82, 8),
  BootCode: bytes(90, 420),
});

/** FAT32 FSInfo sector (Microsoft FAT spec §5). */
export const FSINFO = defineRecord(SECTOR_BYTES, {
  FSI_LeadSig: u32le(0),
  FSI_StrucSig: u32le(484),
  FSI_Free_Count: u32le(488),
  FSI_Nxt_Free: u32le(492),
  FSI_TrailSig: u32le(508),
});
export const FSINFO_SIGNATURES = { lead: 0x41615252, struc: 0x61417272, trail: 0xaa550000 } as const;

/** Short (8.3) directory entry (Microsoft FAT spec §6). */
export const DIR_ENTRY = defineRecord(DIR_ENTRY_BYTES, {
  DIR_Name: bytes(0, 11),
  DIR_Attr: u8(11),
  DIR_NTRes: u8(12),
  DIR_CrtTimeTenth: u8(13),
  DIR_CrtTime: u16le(14),
  DIR_CrtDate: u16le(16),
  DIR_LstAccDate: u16le(18),
  DIR_FstClusHI: u16le(20),
  DIR_WrtTime: u16le(22),
  DIR_WrtDate: u16le(24),
  DIR_FstClusLO: u16le(26),
  DIR_FileSize: u32le(28),
});

/** Long-name directory entry (Microsoft FAT spec §7): 13 UTF-16 units in three pieces. */
export const LFN_ENTRY = defineRecord(DIR_ENTRY_BYTES, {
  LDIR_Ord: u8(0),
  LDIR_Name1: bytes(1, 10),
  LDIR_Attr: u8(11),
  LDIR_Type: u8(12),
  LDIR_Chksum: u8(13),
  LDIR_Name2: bytes(14, 12),
  LDIR_FstClusLO: u16le(26),
  LDIR_Name3: bytes(28, 4),
});
export const LFN_CHARS_PER_ENTRY = 13;
export const LFN_LAST_ENTRY_FLAG = 0x40;

/** A folder holds at most 65,536 32-byte entries, long-name entries included (Microsoft FAT spec §6). */
export const MAX_DIR_ENTRIES = 65536;

/** DIR_Attr bits (Microsoft FAT spec §6). */
export const ATTR = {
  READ_ONLY: 0x01,
  HIDDEN: 0x02,
  SYSTEM: 0x04,
  VOLUME_ID: 0x08,
  DIRECTORY: 0x10,
  ARCHIVE: 0x20,
  LONG_NAME: 0x0f,
} as const;

/** First byte of DIR_Name: end of directory, deleted entry (Microsoft FAT spec §6.1). */
export const DIR_NAME_FREE = { END: 0x00, DELETED: 0xe5 } as const;

export const MEDIA_FIXED_DISK = 0xf8;
export const EXT_BOOT_SIGNATURE = 0x29;
export const BOOT_SIGNATURE = 0xaa55;

/**
 * FAT type determination (Microsoft FAT spec §3.5): by cluster count only.
 * Counts within this many clusters of a boundary are never produced, since some drivers
 * are off by a few clusters there.
 */
export const FAT_BOUNDARY_MARGIN = 16;
export const MAX_FAT12_CLUSTERS = 4084;
export const MAX_FAT16_CLUSTERS = 65524;
/** FAT32 cluster numbers are 28 bits; 0x0FFFFFF5 and up are reserved (spec §4). */
export const MAX_FAT32_CLUSTERS = 0x0ffffff5 - 2;

export function determineFatType(clusterCount: number): FatType {
  if (clusterCount <= MAX_FAT12_CLUSTERS) return 12;
  if (clusterCount <= MAX_FAT16_CLUSTERS) return 16;
  return 32;
}

/** End-of-chain marker and the reserved FAT[0]/FAT[1] values per type (spec §4). */
export const FAT_MARKS = {
  12: { eoc: 0xfff, fat0: 0xf00 | MEDIA_FIXED_DISK, fat1: 0xfff },
  16: { eoc: 0xffff, fat0: 0xff00 | MEDIA_FIXED_DISK, fat1: 0xffff },
  32: { eoc: 0x0fffffff, fat0: 0x0fffff00 | MEDIA_FIXED_DISK, fat1: 0x0fffffff },
} as const satisfies Record<FatType, { eoc: number; fat0: number; fat1: number }>;

/** Largest file FAT can store: DIR_FileSize is 32 bits (spec §6). */
export const MAX_FAT_FILE_BYTES = 0xffffffff;
