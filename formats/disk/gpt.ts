/**
 * GUID Partition Table records (UEFI 2.10 §5.3): the header (Table 5-5), a partition entry
 * (Table 5-6) and the mixed-endian GUID they hold (UEFI Appendix A). The ISO hybrid writer
 * and the disk-image reader (partitions.ts) share them.
 */
import { achars, bytes, decodeRecord, defineRecord, encodeRecord, u16le, u32le, u64le } from "../record.ts";

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
export const GPT_SIGNATURE = "EFI PART";

/** GPT partition entry (UEFI §5.3.3, Table 5-6); `name` is UTF-16LE, NUL padded. */
export const GPT_ENTRY = defineRecord(128, {
  typeGuid: bytes(0, 16),
  uniqueGuid: bytes(16, 16),
  firstLba: u64le(32),
  lastLba: u64le(40),
  attributes: u64le(48),
  name: bytes(56, 72),
});

/** A GUID on disk: three little-endian numbers, then eight bytes in order (UEFI Appendix A, EFI_GUID). */
const GUID = defineRecord(16, { data1: u32le(0), data2: u16le(4), data3: u16le(6), data4: bytes(8, 8) });

/** GUID text to its on-disk mixed-endian bytes (UEFI Appendix A). */
export function encodeGuid(text: string): Buffer {
  const [d1, d2, d3, d4, d5] = text.split("-");
  return encodeRecord(GUID, {
    data1: parseInt(d1, 16),
    data2: parseInt(d2, 16),
    data3: parseInt(d3, 16),
    data4: Buffer.from(d4 + d5, "hex"),
  });
}

/** On-disk GUID bytes to text, upper-case (as UEFI and sgdisk print it). */
export function decodeGuid(b: Buffer): string {
  const g = decodeRecord(GUID, b);
  const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, "0");
  const d4 = g.data4.toString("hex").toUpperCase();
  return `${hex(g.data1, 8)}-${hex(g.data2, 4)}-${hex(g.data3, 4)}-${d4.slice(0, 4)}-${d4.slice(4)}`;
}
