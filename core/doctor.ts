/**
 * External tools and firmware the features need: present or not, and which Debian
 * package provides each. The one table: `bootmedia doctor [--install]`, the demo, the
 * test set-up and .ci/run all read it.
 */
import { statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { which as findOnPath } from "./which.ts";

/**
 * What a user may want to do: `media` builds media (the writers need no external tool; the
 * boot loader bootmedia puts on the media is built once with GRUB's tools), `fixtures`
 * builds boot images (`boot-image build`, the reference images), `testbed` boots media in
 * QEMU, `farm` runs the testbed as shards on a Slurm cluster or CI matrix (`testbed farm`),
 * `demo` is all of these, `tests` runs the whole suite with its independent oracles.
 */
export const FEATURES = ["media", "fixtures", "testbed", "farm", "demo", "tests"] as const;
export type Feature = (typeof FEATURES)[number];

const FIXTURES: readonly Feature[] = ["fixtures", "demo", "tests"];
/** The boot loader on every medium: building media and everything that builds media. */
const MEDIA: readonly Feature[] = ["media", "fixtures", "testbed", "farm", "demo", "tests"];
const TESTBED: readonly Feature[] = ["testbed", "farm", "demo", "tests"];
/** Submitting to and following a Slurm cluster; the tests run a one-node cluster of their own. */
const FARM: readonly Feature[] = ["farm", "tests"];
const TESTS: readonly Feature[] = ["tests"];

export interface Requirement {
  name: string;
  /** A command on PATH, or an absolute file path: what the doctor looks for, and the name product code runs it by. */
  check: string;
  /** Other files of the same package the product opens (a firmware's variable store): present only with all of them. */
  alsoFiles?: readonly string[];
  debianPackage: string;
  neededFor: string;
  features: readonly Feature[];
}

export const REQUIREMENTS = [
  {
    name: "qemu-system-x86_64",
    check: "qemu-system-x86_64",
    debianPackage: "qemu-system-x86",
    neededFor: "testbed: x64 machines",
    features: TESTBED,
  },
  {
    name: "qemu-system-i386",
    check: "qemu-system-i386",
    debianPackage: "qemu-system-x86",
    neededFor: "testbed: x86 machines",
    features: TESTBED,
  },
  {
    name: "iPXE option ROMs",
    check: "/usr/lib/ipxe/qemu/efi-e1000.rom",
    debianPackage: "ipxe-qemu",
    neededFor: "testbed: QEMU's NIC boot ROMs",
    features: TESTBED,
  },
  {
    name: "OVMF (x64 UEFI)",
    check: "/usr/share/OVMF/OVMF_CODE_4M.fd",
    alsoFiles: ["/usr/share/OVMF/OVMF_VARS_4M.fd"],
    debianPackage: "ovmf",
    neededFor: "testbed: x64-uefi",
    features: TESTBED,
  },
  {
    name: "OVMF with Secure Boot keys",
    check: "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd",
    alsoFiles: [
      "/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd",
      "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
      "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
      "/usr/share/ovmf/PkKek-1-snakeoil.pem",
    ],
    debianPackage: "ovmf",
    neededFor: "testbed: x64-uefi-sb-ms, x64-uefi-sb-own",
    features: TESTBED,
  },
  {
    name: "OVMF (ia32 UEFI)",
    check: "/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd",
    alsoFiles: ["/usr/share/OVMF/OVMF32_VARS_4M.fd"],
    debianPackage: "ovmf-ia32",
    neededFor: "testbed: x86-uefi",
    features: TESTBED,
  },
  {
    name: "dpkg-query",
    check: "dpkg-query",
    debianPackage: "dpkg",
    neededFor: "media: the SBOM names the Debian packages the boot loader's and Secure Boot chain's files come from",
    features: MEDIA,
  },
  {
    name: "apt-get",
    check: "apt-get",
    debianPackage: "apt",
    neededFor: "fixtures: .deb downloads",
    features: FIXTURES,
  },
  {
    name: "apt-cache",
    check: "apt-cache",
    debianPackage: "apt",
    neededFor: "fixtures: .deb versions and hashes; media: the SBOM's .deb hashes of GRUB and shim",
    features: MEDIA,
  },
  {
    name: "dpkg-deb",
    check: "dpkg-deb",
    debianPackage: "dpkg",
    neededFor: "fixtures: .deb unpacking",
    features: FIXTURES,
  },
  {
    name: "mmdebstrap",
    check: "mmdebstrap",
    debianPackage: "mmdebstrap",
    neededFor: "fixtures: `os-image build` installs Debian into a folder",
    features: FIXTURES,
  },
  {
    name: "arch-test",
    check: "arch-test",
    debianPackage: "arch-test",
    neededFor: "fixtures: mmdebstrap checks the host runs the x86 (i386) OS image's programs",
    features: FIXTURES,
  },
  {
    name: "mkfs.ext4",
    check: "mkfs.ext4",
    debianPackage: "e2fsprogs",
    neededFor: "fixtures: `os-image build`'s root filesystem (from a folder, no loop device); tests: fsck.ext4",
    features: FIXTURES,
  },
  {
    name: "debugfs",
    check: "debugfs",
    debianPackage: "e2fsprogs",
    neededFor: "fixtures: `os-image build` sets the root filesystem's inode times to SOURCE_DATE_EPOCH",
    features: FIXTURES,
  },
  {
    name: "grub-mkimage",
    check: "grub-mkimage",
    debianPackage: "grub-common",
    neededFor: "media: the boot loader (GRUB boot files)",
    features: MEDIA,
  },
  {
    name: "GRUB i386-pc",
    check: "/usr/lib/grub/i386-pc/boot.img",
    debianPackage: "grub-pc-bin",
    neededFor: "media: BIOS boot files",
    features: MEDIA,
  },
  {
    name: "GRUB i386-efi",
    check: "/usr/lib/grub/i386-efi/kernel.img",
    debianPackage: "grub-efi-ia32-bin",
    neededFor: "media: BOOTIA32.EFI",
    features: MEDIA,
  },
  {
    name: "GRUB x86_64-efi",
    check: "/usr/lib/grub/x86_64-efi/kernel.img",
    debianPackage: "grub-efi-amd64-bin",
    neededFor: "media: BOOTX64.EFI",
    features: MEDIA,
  },
  {
    name: "xz",
    check: "xz",
    debianPackage: "xz-utils",
    neededFor:
      "fixtures and tests: xz-compressed kernel modules; media: `library add-os-image` and `verify` of .raw.xz OS images",
    features: MEDIA,
  },
  {
    name: "zstd",
    check: "zstd",
    debianPackage: "zstd",
    neededFor:
      "fixtures: zstd-compressed kernel modules; media: `library add-os-image` and `verify` of .raw.zst OS images",
    features: MEDIA,
  },
  {
    name: "gzip",
    check: "gzip",
    debianPackage: "gzip",
    neededFor: "fixtures: gzip-compressed kernel modules",
    features: FIXTURES,
  },
  {
    name: "kmod (depmod)",
    check: "depmod",
    debianPackage: "kmod",
    neededFor: "fixtures: kernel module dependencies",
    features: FIXTURES,
  },
  {
    name: "readelf",
    check: "readelf",
    debianPackage: "binutils",
    neededFor: "fixtures: OpenSSL's libraries for the initramfs",
    features: FIXTURES,
  },
  {
    name: "sbsign",
    check: "sbsign",
    debianPackage: "sbsigntool",
    neededFor:
      "media and `boot-image build --signing-key`: the own-key Secure Boot chain (signing); tests: sbverify, the independent signature reader",
    features: MEDIA,
  },
  {
    name: "bash",
    check: "bash",
    debianPackage: "bash",
    neededFor: "media and fixtures: hands sbsign the signing key through a pipe",
    features: MEDIA,
  },
  {
    name: "shim (Microsoft-signed)",
    check: "/usr/lib/shim/shimx64.efi.signed",
    debianPackage: "shim-signed",
    neededFor: "media: the signed Secure Boot chain",
    features: MEDIA,
  },
  {
    name: "shim (unsigned)",
    check: "/usr/lib/shim/shimx64.efi",
    debianPackage: "shim-unsigned",
    neededFor: "media: the own-key Secure Boot chain (signed with your key)",
    features: MEDIA,
  },
  {
    name: "GRUB x86_64-efi (Debian-signed)",
    check: "/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed",
    debianPackage: "grub-efi-amd64-signed",
    neededFor: "media: the signed Secure Boot chain, and the SBAT of the own-key chain's GRUB",
    features: MEDIA,
  },
  {
    name: "xorriso",
    check: "xorriso",
    debianPackage: "xorriso",
    neededFor: "tests and bench:iso (independent ISO reader)",
    features: TESTS,
  },
  {
    name: "isoinfo",
    check: "isoinfo",
    debianPackage: "genisoimage",
    neededFor: "tests (independent ISO reader)",
    features: TESTS,
  },
  {
    name: "fsck.fat",
    check: "fsck.fat",
    debianPackage: "dosfstools",
    neededFor: "tests and bench:fat (FAT checker)",
    features: TESTS,
  },
  {
    name: "mtools",
    check: "mcopy",
    debianPackage: "mtools",
    neededFor: "tests and bench:fat (FAT reader)",
    features: TESTS,
  },
  {
    name: "sgdisk",
    check: "sgdisk",
    debianPackage: "gdisk",
    neededFor: "tests (partition table checker)",
    features: TESTS,
  },
  {
    name: "sfdisk",
    check: "sfdisk",
    debianPackage: "fdisk",
    neededFor: "fixtures: `os-image build` writes its GPT; tests (partition table checker)",
    features: FIXTURES,
  },
  {
    name: "lsblk",
    check: "lsblk",
    debianPackage: "util-linux",
    neededFor: "media: USB device safety checks",
    features: MEDIA,
  },
  {
    name: "umount",
    check: "umount",
    debianPackage: "mount",
    neededFor: "fixtures: `os-image build` unmounts what a killed build left mounted in its tree",
    features: FIXTURES,
  },
  {
    name: "blockdev",
    check: "blockdev",
    debianPackage: "util-linux",
    neededFor: "media: flushing a USB device's buffers",
    features: MEDIA,
  },
  {
    name: "mkfs.ext4",
    check: "mkfs.ext4",
    debianPackage: "e2fsprogs",
    neededFor: "tests (OS images with an ext4 root; fsck.ext4 reads it back)",
    features: TESTS,
  },
  {
    name: "GNU time",
    check: "/usr/bin/time",
    debianPackage: "time",
    neededFor: "tests (peak memory of `library add-os-image` on a 1 GiB image)",
    features: TESTS,
  },
  { name: "cpio", check: "cpio", debianPackage: "cpio", neededFor: "tests (independent cpio reader)", features: TESTS },
  {
    name: "openssl",
    check: "openssl",
    debianPackage: "openssl",
    neededFor: "tests (certificate oracle)",
    features: TESTS,
  },
  {
    name: "nginx",
    check: "nginx",
    debianPackage: "nginx-light",
    neededFor: "tests (a distribution point served by nginx)",
    features: TESTS,
  },
  {
    name: "curl",
    check: "curl",
    debianPackage: "curl",
    neededFor: "tests and bench:fetch (HTTP oracle)",
    features: TESTS,
  },
  {
    name: "busybox (static)",
    check: "/bin/busybox",
    debianPackage: "busybox-static",
    neededFor:
      "testbed: `busybox nc` carries the guest's connections to its management points (QEMU guestfwd); tests: the boot agent's shell, mkpasswd oracle",
    features: TESTBED,
  },
  {
    name: "file",
    check: "file",
    debianPackage: "file",
    neededFor: "tests (kernel and EFI image types)",
    features: TESTS,
  },
  {
    name: "python3",
    check: "python3",
    debianPackage: "python3",
    neededFor: "tests (JUnit XML reader)",
    features: TESTS,
  },
  {
    name: "ImageMagick convert",
    check: "convert",
    debianPackage: "imagemagick",
    neededFor: "tests (screenshot pixels)",
    features: TESTS,
  },
  {
    name: "tesseract",
    check: "tesseract",
    debianPackage: "tesseract-ocr",
    neededFor: "tests (screen text of remastered ISOs booting)",
    features: TESTS,
  },
  {
    name: "GRUB rescue CD",
    check: "/usr/lib/grub-rescue/grub-rescue-cdrom.iso",
    debianPackage: "grub-rescue-pc",
    neededFor: "tests (a real ISO to remaster)",
    features: TESTS,
  },
  {
    name: "memtest86+ ISO",
    check: "/usr/lib/memtest86+/memtest86+x64.iso",
    debianPackage: "memtest86+",
    neededFor: "tests (a real floppy-emulation ISO to remaster)",
    features: TESTS,
  },
  {
    name: "ISOLINUX",
    check: "/usr/lib/ISOLINUX/isohdpfx.bin",
    debianPackage: "isolinux",
    neededFor: "tests (an isohybrid ISOLINUX CD to remaster)",
    features: TESTS,
  },
  {
    name: "SYSLINUX modules",
    check: "/usr/lib/syslinux/modules/bios/ldlinux.c32",
    debianPackage: "syslinux-common",
    neededFor: "tests (ISOLINUX's ldlinux.c32)",
    features: TESTS,
  },
  {
    name: "chromium",
    check: "chromium",
    debianPackage: "chromium",
    neededFor: "tests (testbed HTML report screenshot)",
    features: TESTS,
  },
  {
    name: "sbatch",
    check: "sbatch",
    debianPackage: "slurm-client",
    neededFor: "farm --engine slurm: submitting (sbatch) and following (squeue, scontrol) the shards",
    features: FARM,
  },
  {
    name: "slurmctld",
    check: "slurmctld",
    debianPackage: "slurmctld",
    neededFor: "tests (the one-node Slurm cluster the farm is proven on)",
    features: TESTS,
  },
  {
    name: "slurmd",
    check: "slurmd",
    debianPackage: "slurmd",
    neededFor: "tests (the one-node Slurm cluster's compute node)",
    features: TESTS,
  },
  {
    name: "C compiler and make",
    check: "g++",
    debianPackage: "build-essential",
    neededFor: "tests (the native copy helper, built by npm ci)",
    features: TESTS,
  },
] as const satisfies readonly Requirement[];

/** dpkg architectures besides the native one: the x86 reference image is made of i386 .debs. */
const FOREIGN_ARCHITECTURES: ReadonlyArray<{ arch: string; neededFor: string; features: readonly Feature[] }> = [
  { arch: "i386", neededFor: "fixtures: the x86 reference image's kernel, busybox and OpenSSL", features: FIXTURES },
];

export interface DoctorRow extends Requirement {
  present: boolean;
  path?: string;
}

export function requirementsFor(
  features: readonly Feature[],
  reqs: readonly Requirement[] = REQUIREMENTS,
): Requirement[] {
  return reqs.filter((r) => r.features.some((f) => features.includes(f)));
}

type Row = (typeof REQUIREMENTS)[number];
type AlsoFiles<R> = R extends { alsoFiles: ReadonlyArray<infer F> } ? F : never;
/**
 * A command or file of the table. Product code names what it runs or opens on the host by
 * one of these (core/program.ts), so the compiler refuses a program the table does not know.
 */
export type HostTool = Row["check"] | AlsoFiles<Row>;

/** Where a command (on PATH) or an absolute file is on this machine; tests give their own. */
export type HostLookup = (tool: string) => string | undefined;
/** A file is there when it is a file: a folder, or a device mounted over it, is not busybox. */
export const findOnHost: HostLookup = (tool) =>
  tool.startsWith("/") ? (isFile(tool) ? tool : undefined) : which(tool);

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // absent, or behind a folder we may not read: not usable either way
  }
}

/** The table's row that provides `tool`. */
export function requirementOf(tool: HostTool): Requirement {
  const rows: readonly Requirement[] = REQUIREMENTS;
  return rows.find((r) => r.check === tool || r.alsoFiles?.includes(tool))!;
}

export function runDoctor(reqs: readonly Requirement[] = REQUIREMENTS, lookup: HostLookup = findOnHost): DoctorRow[] {
  return reqs.map((r) => {
    const found = lookup(r.check);
    const path = found && (r.alsoFiles ?? []).every((f) => lookup(f) !== undefined) ? found : undefined;
    return { ...r, present: path !== undefined, ...(path ? { path } : {}) };
  });
}

/** The foreign architectures `features` need that dpkg does not know yet (none without dpkg). */
export function missingArchitectures(features: readonly Feature[]): string[] {
  const wanted = FOREIGN_ARCHITECTURES.filter((a) => a.features.some((f) => features.includes(f))).map((a) => a.arch);
  if (wanted.length === 0 || !which("dpkg")) return [];
  const known = [dpkgOut(["--print-architecture"]), ...dpkgOut(["--print-foreign-architectures"]).split("\n")].map(
    (s) => s.trim(),
  );
  return wanted.filter((a) => !known.includes(a));
}

function dpkgOut(args: string[]): string {
  try {
    return execFileSync("dpkg", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return "";
  }
}

/** A command on PATH or in the system folders (a user's PATH may lack /usr/sbin, where mkfs.fat lives). */
export function which(cmd: string): string | undefined {
  return findOnPath(cmd, { also: ["/usr/sbin", "/sbin"] });
}
