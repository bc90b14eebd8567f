/**
 * The x86 Linux boot protocol's setup header (Documentation/arch/x86/boot.rst, "The real-mode
 * kernel header"): what tells a bzImage from any other file, its protocol version, and whether
 * the kernel is 64-bit. Offsets are from the start of the image file.
 */
import { achars, decodeRecord, defineRecord, u16le, u8 } from "../record.ts";

/** The header fields bootmedia reads; the record spans the file's first 0x238 bytes. */
export const SETUP_HEADER = defineRecord(0x238, {
  /** Size of the setup code in 512-byte sectors (0 means 4). */
  setupSects: u8(0x1f1),
  /** 0xAA55, the legacy boot-sector signature. */
  bootFlag: u16le(0x1fe),
  /** "HdrS": the header exists (protocol 2.00 and later). */
  header: achars(0x202, 4),
  /** Boot protocol version, major in the high byte (0x020f = 2.15). */
  version: u16le(0x206),
  /** Bit 0 LOADED_HIGH: the protected-mode code loads at 1 MiB, i.e. a bzImage (protocol 2.00+). */
  loadflags: u8(0x211),
  /** Bit 0 XLF_KERNEL_64: the kernel has the legacy 64-bit entry point at 0x200 (protocol 2.12+). */
  xloadflags: u16le(0x236),
});

export const HDRS_MAGIC = "HdrS";
export const BOOT_FLAG = 0xaa55;
export const LOADED_HIGH = 0x01;
export const XLF_KERNEL_64 = 0x01;
/** The first protocol version that has `xloadflags`. */
const PROTOCOL_XLOADFLAGS = 0x020c;

export type KernelBits = 32 | 64;

type KernelHeader = { ok: true; version: string; bits: KernelBits } | { ok: false; why: string };

const versionText = (v: number) => `${v >> 8}.${String(v & 0xff).padStart(2, "0")}`;

/** Reads a kernel's first bytes (at least SETUP_HEADER.size of them) as an x86 bzImage. */
export function readKernelHeader(head: Buffer): KernelHeader {
  if (head.length < SETUP_HEADER.size)
    return { ok: false, why: `it is ${head.length} bytes, shorter than an x86 boot header` };
  const h = decodeRecord(SETUP_HEADER, head);
  if (h.header !== HDRS_MAGIC) return { ok: false, why: `no "HdrS" boot-protocol magic at offset 0x202` };
  if (h.bootFlag !== BOOT_FLAG) return { ok: false, why: "no 0xAA55 boot flag at offset 0x1fe" };
  if ((h.loadflags & LOADED_HIGH) === 0)
    return { ok: false, why: `a zImage (loaded low), not a bzImage (boot protocol ${versionText(h.version)})` };
  // Before 2.12 the header cannot say 64-bit; such old kernels are taken as 32-bit.
  const bits: KernelBits = h.version >= PROTOCOL_XLOADFLAGS && (h.xloadflags & XLF_KERNEL_64) !== 0 ? 64 : 32;
  return { ok: true, version: versionText(h.version), bits };
}
