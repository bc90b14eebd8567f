/**
 * Debian's parts of the Secure Boot chains (x64 only: Debian ships no ia32 shim):
 *   - signed:  shim signed by Microsoft's UEFI CA (shim-signed) -> GRUB signed by Debian, its CD
 *              build (grub-efi-amd64-signed: prefix /boot/grub, finds the media by /.disk/info)
 *              -> a kernel signed by Debian (linux-image-amd64);
 *   - own-key: shim without Microsoft's signature (shim-unsigned), signed with the user's key
 *              -> bootmedia's GRUB with Debian GRUB's SBAT, signed with the user's key -> a kernel
 *              signed with the user's key (or by Debian: shim trusts its vendor certificate).
 * Both shims carry Debian's vendor certificate ("Debian Secure Boot CA").
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { BootmediaError } from "../../base/errors.ts";
import { certificateSubject, readPe, readVendorCertificate } from "../../formats/pe/index.ts";
import "./codes.ts";

export const DEBIAN_CHAIN_FILES = {
  shimSigned: { path: "/usr/lib/shim/shimx64.efi.signed", pkg: "shim-signed" },
  shimUnsigned: { path: "/usr/lib/shim/shimx64.efi", pkg: "shim-unsigned" },
  grubSigned: { path: "/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed", pkg: "grub-efi-amd64-signed" },
} as const;
type ChainFile = keyof typeof DEBIAN_CHAIN_FILES;

/** Where shim looks for its loader (shim's DEFAULT_LOADER), beside itself. */
export const SHIM_LOADER_PATH = "EFI/BOOT/grubx64.efi";
/** What Debian's signed CD GRUB searches for to find the media (its embedded config). */
export const DISK_INFO_PATH = ".disk/info";

/** The path of one chain file; BM4403 when its package is not installed. */
export function chainFile(name: ChainFile): string {
  const f = DEBIAN_CHAIN_FILES[name];
  if (!existsSync(f.path))
    throw new BootmediaError("BM4403", `${f.path} is missing (Debian package ${f.pkg})`, { where: f.path });
  return f.path;
}

/** Subject of the vendor certificate built into a shim, named as signers' issuers are (kernel-trust.ts compares them); null if it carries none. */
export function shimVendorSubject(shim: Buffer, where: string): string | null {
  const section = readPe(shim, where).vendorCert;
  const der = section ? readVendorCertificate(section) : null;
  return der ? certificateSubject(der) : null;
}

/**
 * The `.sbat` of Debian's signed GRUB, for bootmedia's GRUB built from the same GRUB
 * package: its generations are Debian's word on that code. BM4403 when the versions differ.
 */
export async function debianGrubSbat(grubVersion: string): Promise<string> {
  const path = chainFile("grubSigned");
  const sbat = readPe(await readFile(path), path).sbat ?? "";
  const debianLine = sbat.split("\n").find((l) => l.startsWith("grub.debian,"));
  const version = debianLine?.split(",")[4];
  if (version !== grubVersion) {
    throw new BootmediaError(
      "BM4403",
      `Debian's signed GRUB (${path}) is GRUB ${version ?? "of unknown version"}, the GRUB that builds bootmedia's boot files is ${grubVersion}: their SBAT would not describe it (install matching grub-efi-amd64-signed and grub-efi-amd64-bin)`,
      { where: path },
    );
  }
  return sbat.endsWith("\n") ? sbat : `${sbat}\n`;
}
