/** ECMA-119 (ISO 9660) on-disk records, as field tables. Section numbers cite ECMA-119 4th ed. */
import {
  defineRecord,
  encodeRecord,
  achars,
  bytes,
  u16be,
  u16both,
  u16le,
  u32be,
  u32both,
  u32le,
  u8,
} from "../record.ts";

export const SECTOR = 2048;
/** Volume descriptors start at logical sector 16; sectors 0-15 are the system area (§6.2.1). */
export const SYSTEM_AREA_SECTORS = 16;
export const VD_TYPE = { BOOT: 0, PRIMARY: 1, SUPPLEMENTARY: 2, TERMINATOR: 255 } as const;
export const STANDARD_ID = "CD001";
/** Largest extent of a multi-extent file: 4 GiB - 2 KiB, a whole number of sectors (§6.5.1). */
export const MAX_EXTENT = 0xfffff800;

/** Primary / supplementary volume descriptor (§8.4, §8.5). Joliet uses the SVD with escape %/E. */
export const VOLUME_DESCRIPTOR = defineRecord(SECTOR, {
  type: u8(0),
  standardId: achars(1, 5),
  version: u8(6),
  volumeFlags: u8(7),
  systemId: bytes(8, 32),
  volumeId: bytes(40, 32),
  volumeSpaceSize: u32both(80),
  escapeSequences: bytes(88, 32),
  volumeSetSize: u16both(120),
  volumeSequenceNumber: u16both(124),
  logicalBlockSize: u16both(128),
  pathTableSize: u32both(132),
  typeLPathTable: u32le(140),
  optTypeLPathTable: u32le(144),
  typeMPathTable: u32be(148),
  optTypeMPathTable: u32be(152),
  rootDirectoryRecord: bytes(156, 34),
  volumeSetId: bytes(190, 128),
  publisherId: bytes(318, 128),
  dataPreparerId: bytes(446, 128),
  applicationId: bytes(574, 128),
  copyrightFileId: bytes(702, 37),
  abstractFileId: bytes(739, 37),
  bibliographicFileId: bytes(776, 37),
  creationDate: bytes(813, 17),
  modificationDate: bytes(830, 17),
  expirationDate: bytes(847, 17),
  effectiveDate: bytes(864, 17),
  fileStructureVersion: u8(881),
});

/** The header every volume descriptor starts with (§8.1): what a reader checks first. */
export const DESCRIPTOR_HEADER = defineRecord(7, {
  type: u8(0),
  standardId: achars(1, 5),
  version: u8(6),
});

/** Volume descriptor set terminator (§8.3). */
export const TERMINATOR_DESCRIPTOR = defineRecord(SECTOR, {
  type: u8(0),
  standardId: achars(1, 5),
  version: u8(6),
});

/** Fixed part of a directory record (§9.1); the identifier follows at 33, then a pad byte if its length is even, then the system use area (SUSP). */
export const DIRECTORY_RECORD = defineRecord(33, {
  length: u8(0),
  extAttrLength: u8(1),
  extent: u32both(2),
  dataLength: u32both(10),
  recordingDate: bytes(18, 7),
  flags: u8(25),
  fileUnitSize: u8(26),
  interleaveGap: u8(27),
  volumeSequenceNumber: u16both(28),
  identifierLength: u8(32),
});
/** File flags (§9.1.6). */
export const FILE_FLAG = { DIRECTORY: 0x02, MULTI_EXTENT: 0x80 } as const;

/** Path table record, type L (little-endian) and type M (big-endian) (§9.4); identifier at 8, padded to even. */
export const PATH_TABLE_RECORD_L = defineRecord(8, {
  identifierLength: u8(0),
  extAttrLength: u8(1),
  extent: u32le(2),
  parent: u16le(6),
});
export const PATH_TABLE_RECORD_M = defineRecord(8, {
  identifierLength: u8(0),
  extAttrLength: u8(1),
  extent: u32be(2),
  parent: u16be(6),
});

/** Recording date and time of a directory record (§9.1.5): years since 1900, month … second, GMT offset. */
const DIR_DATE = defineRecord(7, {
  year: u8(0),
  month: u8(1),
  day: u8(2),
  hour: u8(3),
  minute: u8(4),
  second: u8(5),
  gmtOffset: u8(6),
});

/** Encodes a directory-record date (§9.1.5) in UTC from epoch seconds. */
export function encodeDirDate(epochSeconds: number): Buffer {
  const d = new Date(epochSeconds * 1000);
  return encodeRecord(DIR_DATE, {
    year: d.getUTCFullYear() - 1900,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    gmtOffset: 0,
  });
}

/** Volume descriptor date and time (§8.4.26.1): YYYYMMDDHHMMSScc as digits, then the GMT offset in 15-minute units. */
const VOLUME_DATE = defineRecord(17, { digits: achars(0, 16), gmtOffset: u8(16) });

/** Encodes a volume descriptor date (§8.4.26.1): 16 ASCII digits + GMT offset byte; zero epoch means "not specified". */
export function encodeVolumeDate(epochSeconds: number | undefined): Buffer {
  if (epochSeconds === undefined) return encodeRecord(VOLUME_DATE, { digits: "0".repeat(16), gmtOffset: 0 });
  const d = new Date(epochSeconds * 1000);
  const p = (n: number, w: number) => String(n).padStart(w, "0");
  const digits =
    p(d.getUTCFullYear(), 4) +
    p(d.getUTCMonth() + 1, 2) +
    p(d.getUTCDate(), 2) +
    p(d.getUTCHours(), 2) +
    p(d.getUTCMinutes(), 2) +
    p(d.getUTCSeconds(), 2) +
    "00";
  return encodeRecord(VOLUME_DATE, { digits, gmtOffset: 0 });
}
