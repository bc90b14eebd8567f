/**
 * The "new ASCII" (newc, magic 070701) cpio header, as the Linux kernel's initramfs
 * unpacker reads it (Documentation/driver-api/early-userspace/buffer-format.rst) and
 * as GNU cpio writes it with `-H newc`.
 *
 * A record is: a 110-byte header, the NUL-terminated name, padding to a multiple of 4
 * (counted from the record start), the data, padding to a multiple of 4.
 */
import { achars, defineRecord, encodeRecord, hex } from "../record.ts";

/** The 110-byte header; every numeric field is 8 ASCII hex digits (buffer-format.rst, "cpio_file_header"). */
const NEWC_HEADER = defineRecord(110, {
  magic: achars(0, 6),
  ino: hex(6, 8),
  mode: hex(14, 8),
  uid: hex(22, 8),
  gid: hex(30, 8),
  nlink: hex(38, 8),
  mtime: hex(46, 8),
  filesize: hex(54, 8),
  devmajor: hex(62, 8),
  devminor: hex(70, 8),
  rdevmajor: hex(78, 8),
  rdevminor: hex(86, 8),
  namesize: hex(94, 8),
  check: hex(102, 8),
});

const NEWC_MAGIC = "070701";
const NEWC_HEADER_SIZE = NEWC_HEADER.size;
/** The name of the record that ends the archive (it has no data and mode 0). */
export const NEWC_TRAILER_NAME = "TRAILER!!!";

type NewcFieldName = Exclude<keyof (typeof NEWC_HEADER)["fields"], "magic">;
type NewcHeader = Record<NewcFieldName, number>;

/** File type bits of `mode` (POSIX <sys/stat.h>; cpio stores st_mode as is). */
export const FILE_TYPE = {
  dir: 0o040000,
  file: 0o100000,
  symlink: 0o120000,
  chardev: 0o020000,
  blockdev: 0o060000,
} as const;

/** Bytes needed after `length` bytes to reach the next multiple of 4. */
export function padTo4(length: number): number {
  return (4 - (length % 4)) % 4;
}

/** Encodes one header plus its NUL-terminated, padded name. */
export function encodeNewcHeader(header: Omit<NewcHeader, "namesize">, name: string): Uint8Array {
  const nameBytes = Buffer.from(name, "utf8");
  const total = NEWC_HEADER_SIZE + nameBytes.length + 1;
  const out = Buffer.alloc(total + padTo4(total));
  try {
    encodeRecord(NEWC_HEADER, { ...header, magic: NEWC_MAGIC, namesize: nameBytes.length + 1 }, out);
  } catch (e) {
    throw new RangeError(`cpio ${(e as Error).message} (entry ${name})`);
  }
  out.set(nameBytes, NEWC_HEADER_SIZE);
  return out;
}
