/** ECMA-119 (ISO 9660) on-disk records, as field tables. Section numbers cite ECMA-119 4th ed. */
import { defineLayout, encodeRecord } from "./struct.ts";

export const SECTOR = 2048;
/** Volume descriptors start at logical sector 16; sectors 0-15 are the system area (§6.2.1). */
export const SYSTEM_AREA_SECTORS = 16;
export const VD_TYPE = { BOOT: 0, PRIMARY: 1, SUPPLEMENTARY: 2, TERMINATOR: 255 } as const;
export const STANDARD_ID = "CD001";
/** Largest extent of a multi-extent file: 4 GiB - 2 KiB, a whole number of sectors (§6.5.1). */
export const MAX_EXTENT = 0xfffff800;

/** Primary / supplementary volume descriptor (§8.4, §8.5). Joliet uses the SVD with escape %/E. */
export const VOLUME_DESCRIPTOR = defineLayout(SECTOR, {
  type: { offset: 0, size: 1, type: "u8" },
  standardId: { offset: 1, size: 5, type: "achars" },
  version: { offset: 6, size: 1, type: "u8" },
  volumeFlags: { offset: 7, size: 1, type: "u8" },
  systemId: { offset: 8, size: 32, type: "bytes" },
  volumeId: { offset: 40, size: 32, type: "bytes" },
  volumeSpaceSize: { offset: 80, size: 8, type: "u32both" },
  escapeSequences: { offset: 88, size: 32, type: "bytes" },
  volumeSetSize: { offset: 120, size: 4, type: "u16both" },
  volumeSequenceNumber: { offset: 124, size: 4, type: "u16both" },
  logicalBlockSize: { offset: 128, size: 4, type: "u16both" },
  pathTableSize: { offset: 132, size: 8, type: "u32both" },
  typeLPathTable: { offset: 140, size: 4, type: "u32le" },
  optTypeLPathTable: { offset: 144, size: 4, type: "u32le" },
  typeMPathTable: { offset: 148, size: 4, type: "u32be" },
  optTypeMPathTable: { offset: 152, size: 4, type: "u32be" },
  rootDirectoryRecord: { offset: 156, size: 34, type: "bytes" },
  volumeSetId: { offset: 190, size: 128, type: "bytes" },
  publisherId: { offset: 318, size: 128, type: "bytes" },
  dataPreparerId: { offset: 446, size: 128, type: "bytes" },
  applicationId: { offset: 574, size: 128, type: "bytes" },
  copyrightFileId: { offset: 702, size: 37, type: "bytes" },
  abstractFileId: { offset: 739, size: 37, type: "bytes" },
  bibliographicFileId: { offset: 776, size: 37, type: "bytes" },
  creationDate: { offset: 813, size: 17, type: "bytes" },
  modificationDate: { offset: 830, size: 17, type: "bytes" },
  expirationDate: { offset: 847, size: 17, type: "bytes" },
  effectiveDate: { offset: 864, size: 17, type: "bytes" },
  fileStructureVersion: { offset: 881, size: 1, type: "u8" },
});

/** Volume descriptor set terminator (§8.3). */
export const TERMINATOR_DESCRIPTOR = defineLayout(SECTOR, {
  type: { offset: 0, size: 1, type: "u8" },
  standardId: { offset: 1, size: 5, type: "achars" },
  version: { offset: 6, size: 1, type: "u8" },
});

/** Fixed part of a directory record (§9.1); the identifier follows at 33, then a pad byte if its length is even, then the system use area (SUSP). */
export const DIRECTORY_RECORD = defineLayout(33, {
  length: { offset: 0, size: 1, type: "u8" },
  extAttrLength: { offset: 1, size: 1, type: "u8" },
  extent: { offset: 2, size: 8, type: "u32both" },
  dataLength: { offset: 10, size: 8, type: "u32both" },
  recordingDate: { offset: 18, size: 7, type: "bytes" },
  flags: { offset: 25, size: 1, type: "u8" },
  fileUnitSize: { offset: 26, size: 1, type: "u8" },
  interleaveGap: { offset: 27, size: 1, type: "u8" },
  volumeSequenceNumber: { offset: 28, size: 4, type: "u16both" },
  identifierLength: { offset: 32, size: 1, type: "u8" },
});
/** File flags (§9.1.6). */
export const FILE_FLAG = { DIRECTORY: 0x02, MULTI_EXTENT: 0x80 } as const;

/** Path table record, type L (little-endian) and type M (big-endian) (§9.4); identifier at 8, padded to even. */
export const PATH_TABLE_RECORD_L = defineLayout(8, {
  identifierLength: { offset: 0, size: 1, type: "u8" },
  extAttrLength: { offset: 1, size: 1, type: "u8" },
  extent: { offset: 2, size: 4, type: "u32le" },
  parent: { offset: 6, size: 2, type: "u16le" },
});
export const PATH_TABLE_RECORD_M = defineLayout(8, {
  identifierLength: { offset: 0, size: 1, type: "u8" },
  extAttrLength: { offset: 1, size: 1, type: "u8" },
  extent: { offset: 2, size: 4, type: "u32be" },
  parent: { offset: 6, size: 2, type: "u16be" },
});

/** Recording date and time of a directory record (§9.1.5): years since 1900, month … second, GMT offset. */
export const DIR_DATE = defineLayout(7, {
  year: { offset: 0, size: 1, type: "u8" },
  month: { offset: 1, size: 1, type: "u8" },
  day: { offset: 2, size: 1, type: "u8" },
  hour: { offset: 3, size: 1, type: "u8" },
  minute: { offset: 4, size: 1, type: "u8" },
  second: { offset: 5, size: 1, type: "u8" },
  gmtOffset: { offset: 6, size: 1, type: "u8" },
});

/** Encodes a directory-record date (§9.1.5) in UTC from epoch seconds. */
export function encodeDirDate(epochSeconds: number): Buffer {
  const d = new Date(epochSeconds * 1000);
  return encodeRecord(DIR_DATE, {
    year: d.getUTCFullYear() - 1900, month: d.getUTCMonth() + 1, day: d.getUTCDate(),
    hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), gmtOffset: 0,
  });
}

/** Decodes a directory-record date (§9.1.5) to epoch seconds, honouring the GMT offset in 15-minute units. */
export function decodeDirDate(b: Buffer): number {
  const off = (b[6] << 24) >> 24;
  return Date.UTC(1900 + b[0], b[1] - 1, b[2], b[3], b[4], b[5]) / 1000 - off * 15 * 60;
}

/** Encodes a volume descriptor date (§8.4.26.1): 16 ASCII digits + GMT offset byte; zero epoch means "not specified". */
export function encodeVolumeDate(epochSeconds: number | undefined): Buffer {
  if (epochSeconds === undefined) return Buffer.concat([Buffer.from("0".repeat(16), "latin1"), Buffer.from([0])]);
  const d = new Date(epochSeconds * 1000);
  const p = (n: number, w: number) => String(n).padStart(w, "0");
  const s = p(d.getUTCFullYear(), 4) + p(d.getUTCMonth() + 1, 2) + p(d.getUTCDate(), 2) + p(d.getUTCHours(), 2)
    + p(d.getUTCMinutes(), 2) + p(d.getUTCSeconds(), 2) + "00";
  return Buffer.concat([Buffer.from(s, "latin1"), Buffer.from([0])]);
}
