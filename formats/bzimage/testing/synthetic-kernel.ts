/** A file with just an x86 bzImage setup header (no code): enough for header readers and `file`. */
import { encodeRecord } from "../../record.ts";
import { BOOT_FLAG, HDRS_MAGIC, LOADED_HIGH, SETUP_HEADER, XLF_KERNEL_64 } from "../setup-header.ts";

export function syntheticKernel(bits: 32 | 64, size = 4096): Buffer {
  const buf = Buffer.alloc(size);
  encodeRecord(
    SETUP_HEADER,
    {
      setupSects: 4,
      bootFlag: BOOT_FLAG,
      header: HDRS_MAGIC,
      version: 0x020f,
      loadflags: LOADED_HIGH,
      xloadflags: bits === 64 ? XLF_KERNEL_64 : 0,
    },
    buf,
  );
  return buf;
}
