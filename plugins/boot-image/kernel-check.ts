/**
 * A boot image's own files: its kernel and initrd are in the package, and the kernel is an
 * x86 Linux bzImage of the architecture the manifest states (its setup header says so).
 */
import { open } from "node:fs/promises";
import { diagnostic, type Diagnostic } from "../../base/diagnostics.ts";
import { BootmediaError } from "../../base/errors.ts";
import type { Arch } from "../../core/compat.ts";
import type { ContentPackage } from "../../core/types.ts";
import { readKernelHeader, SETUP_HEADER, type KernelBits } from "../../formats/bzimage/setup-header.ts";
import "./codes.ts";

const ARCH_BITS = { x86: 32, x64: 64 } as const satisfies Record<Arch, KernelBits>;

/** BM3601/BM3602: the manifest's kernel and initrd must be files the package lists. */
export function checkImageFiles(pkg: ContentPackage): Diagnostic[] {
  const info = pkg.bootImage!;
  const listed = new Set(pkg.files.map((f) => f.path));
  const out: Diagnostic[] = [];
  if (!listed.has(info.kernel))
    out.push(
      diagnostic("BM3601", `boot image ${pkg.id}: its kernel ${info.kernel} is not among the package's files`, {
        path: `${pkg.id}.bootImage.kernel`,
      }),
    );
  if (info.initrd !== undefined && !listed.has(info.initrd))
    out.push(
      diagnostic("BM3602", `boot image ${pkg.id}: its initrd ${info.initrd} is not among the package's files`, {
        path: `${pkg.id}.bootImage.initrd`,
      }),
    );
  return out;
}

/** BM3603 (not an x86 bzImage) / BM3604 (a bzImage of the other arch), read from the file's header. */
export async function checkKernelFile(path: string, arch: Arch, label: string): Promise<void> {
  const fh = await open(path, "r");
  let head: Buffer;
  try {
    const buf = Buffer.alloc(SETUP_HEADER.size);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const h = readKernelHeader(head);
  if (!h.ok)
    throw new BootmediaError("BM3603", `${label} is not an x86 Linux kernel (bzImage): ${h.why}`, { where: path });
  if (h.bits !== ARCH_BITS[arch]) {
    throw new BootmediaError(
      "BM3604",
      `${label} is a ${h.bits}-bit kernel (boot protocol ${h.version}), but the boot image is stated ${arch} (${ARCH_BITS[arch]}-bit)`,
      { where: path },
    );
  }
}
