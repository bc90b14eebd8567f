/**
 * External tools and firmware the features need: present or not, and which Debian
 * package provides each. Data, so `bootmedia doctor`, docs and .ci/run agree.
 */
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface Requirement {
  name: string;
  /** A command on PATH, or an absolute file path. */
  check: string;
  debianPackage: string;
  neededFor: string;
}

export const REQUIREMENTS: Requirement[] = [
  { name: "qemu-system-x86_64", check: "qemu-system-x86_64", debianPackage: "qemu-system-x86", neededFor: "testbed: x64 machines" },
  { name: "qemu-system-i386", check: "qemu-system-i386", debianPackage: "qemu-system-x86", neededFor: "testbed: x86 machines" },
  { name: "OVMF (x64 UEFI)", check: "/usr/share/OVMF/OVMF_CODE_4M.fd", debianPackage: "ovmf", neededFor: "testbed: x64-uefi" },
  { name: "OVMF (ia32 UEFI)", check: "/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd", debianPackage: "ovmf-ia32", neededFor: "testbed: x86-uefi" },
  { name: "grub-mkimage", check: "grub-mkimage", debianPackage: "grub-common", neededFor: "fixtures: reference boot images" },
  { name: "GRUB i386-pc", check: "/usr/lib/grub/i386-pc/boot.img", debianPackage: "grub-pc-bin", neededFor: "fixtures: BIOS boot files" },
  { name: "GRUB i386-efi", check: "/usr/lib/grub/i386-efi/kernel.img", debianPackage: "grub-efi-ia32-bin", neededFor: "fixtures: BOOTIA32.EFI" },
  { name: "GRUB x86_64-efi", check: "/usr/lib/grub/x86_64-efi/kernel.img", debianPackage: "grub-efi-amd64-bin", neededFor: "fixtures: BOOTX64.EFI" },
  { name: "xorriso", check: "xorriso", debianPackage: "xorriso", neededFor: "tests and bench:iso (independent ISO reader)" },
  { name: "isoinfo", check: "isoinfo", debianPackage: "genisoimage", neededFor: "tests (independent ISO reader)" },
  { name: "fsck.fat", check: "fsck.fat", debianPackage: "dosfstools", neededFor: "tests and bench:fat (FAT checker)" },
  { name: "mtools", check: "mcopy", debianPackage: "mtools", neededFor: "tests and bench:fat (FAT reader)" },
  { name: "sgdisk", check: "sgdisk", debianPackage: "gdisk", neededFor: "tests (partition table checker)" },
  { name: "sfdisk", check: "sfdisk", debianPackage: "fdisk", neededFor: "tests (partition table checker)" },
  { name: "lsblk", check: "lsblk", debianPackage: "util-linux", neededFor: "usb: device safety checks" },
  { name: "cpio", check: "cpio", debianPackage: "cpio", neededFor: "tests (independent cpio reader)" },
  { name: "openssl", check: "openssl", debianPackage: "openssl", neededFor: "tests (certificate oracle)" },
  { name: "nginx", check: "nginx", debianPackage: "nginx-light", neededFor: "tests (a distribution point served by nginx)" },
  { name: "curl", check: "curl", debianPackage: "curl", neededFor: "tests and bench:fetch (HTTP oracle)" },
  { name: "kmod (depmod)", check: "depmod", debianPackage: "kmod", neededFor: "fixtures: kernel module dependencies" },
  { name: "chromium", check: "chromium", debianPackage: "chromium", neededFor: "tests (testbed HTML report screenshot)" },
];

export interface DoctorRow extends Requirement {
  present: boolean;
  path?: string;
}

export function runDoctor(reqs: Requirement[] = REQUIREMENTS): DoctorRow[] {
  return reqs.map((r) => {
    const path = r.check.startsWith("/") ? (existsSync(r.check) ? r.check : undefined) : which(r.check);
    return { ...r, present: path !== undefined, ...(path ? { path } : {}) };
  });
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/sbin"])) {
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}
