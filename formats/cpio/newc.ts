/**
 * The "new ASCII" (newc, magic 070701) cpio header, as the Linux kernel's initramfs
 * unpacker reads it (Documentation/driver-api/early-userspace/buffer-format.rst) and
 * as GNU cpio writes it with `-H newc`.
 *
 * A record is: a 110-byte header, the NUL-terminated name, padding to a multiple of 4
 * (counted from the record start), the data, padding to a multiple of 4.
 */

/** Header fields in on-disk order; every numeric field is 8 ASCII hex digits. */
export const NEWC_FIELDS = [
  { offset: 6, size: 8, name: "ino" },
  { offset: 14, size: 8, name: "mode" },
  { offset: 22, size: 8, name: "uid" },
  { offset: 30, size: 8, name: "gid" },
  { offset: 38, size: 8, name: "nlink" },
  { offset: 46, size: 8, name: "mtime" },
  { offset: 54, size: 8, name: "filesize" },
  { offset: 62, size: 8, name: "devmajor" },
  { offset: 70, size: 8, name: "devminor" },
  { offset: 78, size: 8, name: "rdevmajor" },
  { offset: 86, size: 8, name: "rdevminor" },
  { offset: 94, size: 8, name: "namesize" },
  { offset: 102, size: 8, name: "check" },
] as const;

export const NEWC_MAGIC = "070701";
export const NEWC_HEADER_SIZE = 110;
/** The name of the record that ends the archive (it has no data and mode 0). */
export const NEWC_TRAILER_NAME = "TRAILER!!!";

export type NewcFieldName = (typeof NEWC_FIELDS)[number]["name"];
export type NewcHeader = Record<NewcFieldName, number>;

/** File type bits of `mode` (POSIX <sys/stat.h>; cpio stores st_mode as is). */
export const FILE_TYPE = {
  dir: 0o040000,
  file: 0o100000,
  symlink: 0o120000,
  chardev: 0o020000,
  blockdev: 0o060000,
} as const;

const MAX_FIELD = 0xffffffff;

/** Bytes needed after `length` bytes to reach the next multiple of 4. */
export function padTo4(length: number): number {
  return (4 - (length % 4)) % 4;
}

/** Encodes one header plus its NUL-terminated, padded name. */
export function encodeNewcHeader(header: Omit<NewcHeader, "namesize">, name: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const fields: NewcHeader = { ...header, namesize: nameBytes.length + 1 };
  const total = NEWC_HEADER_SIZE + nameBytes.length + 1;
  const out = new Uint8Array(total + padTo4(total));
  out.set(new TextEncoder().encode(NEWC_MAGIC), 0);
  for (const f of NEWC_FIELDS) {
    const value = fields[f.name];
    if (!Number.isInteger(value) || value < 0 || value > MAX_FIELD) {
      throw new RangeError(`cpio field ${f.name} out of range: ${value} (entry ${name})`);
    }
    out.set(new TextEncoder().encode(value.toString(16).padStart(f.size, "0")), f.offset);
  }
  out.set(nameBytes, NEWC_HEADER_SIZE);
  return out;
}
