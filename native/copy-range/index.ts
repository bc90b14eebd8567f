/**
 * The optional in-kernel copy (copy_file_range at offsets), built by `npm ci` from
 * copy_range.c when a C compiler and Node's headers are there. Writers fall back to
 * read + write without it; BOOTMEDIA_NO_NATIVE=1 turns it off (tests cover both paths).
 */
import { createRequire } from "node:module";

export type CopyRange = (fdIn: number, offIn: number, fdOut: number, offOut: number, length: number) => number;

function load(): CopyRange | undefined {
  if (process.env.BOOTMEDIA_NO_NATIVE) return undefined;
  try {
    return (createRequire(import.meta.url)("./build/Release/copy_range.node") as { copyRange: CopyRange }).copyRange;
  } catch {
    return undefined;
  }
}

export const copyRange: CopyRange | undefined = load();
