/**
 * What `os-image build` makes, as data: the distributions it knows, the Debian packages per
 * architecture, the disk layout and the boot settings. build-os-image.ts reads only these.
 */
import type { Arch } from "../../core/compat.ts";

export const DISTROS = ["debian-12"] as const;
export type Distro = (typeof DISTROS)[number];

interface DistroRecipe {
  /** Debian suite mmdebstrap installs. */
  suite: string;
  /** apt sources, one `deb` line each (the security suite carries the kernel's fixes). */
  sources: readonly string[];
  name: string;
}

export const DISTRO_RECIPES = {
  "debian-12": {
    suite: "bookworm",
    sources: [
      "deb http://deb.debian.org/debian bookworm main",
      "deb http://deb.debian.org/debian bookworm-updates main",
      "deb http://deb.debian.org/debian-security bookworm-security main",
    ],
    name: "Debian 12",
  },
} as const satisfies Record<Distro, DistroRecipe>;

/**
 * Packages every image gets: systemd as init, the kernel's initramfs, the report client's tools.
 * dbus: without it systemd-logind does not run, and nothing answers the ACPI power button, so a
 * machine told to shut down (the testbed's `system_powerdown`) would be stopped with its ext4
 * journal open.
 */
const COMMON_PACKAGES = [
  "systemd",
  "systemd-sysv",
  "dbus",
  "udev",
  "initramfs-tools",
  "e2fsprogs",
  "fdisk",
  "openssl",
  "curl",
  "ca-certificates",
  "grub-pc-bin",
] as const;

interface ArchImageRecipe {
  debArch: string;
  packages: readonly string[];
  /** GPT type of the root partition: the Discoverable Partitions root type of the arch. */
  rootType: string;
  /** grub-mkimage target of the UEFI loader we build ourselves (x64 uses Debian's signed one). */
  efiTarget?: "i386-efi";
  /** The UEFI removable-media path's file name (UEFI §3.5.1.1). */
  efiBootFile: "BOOTX64.EFI" | "BOOTIA32.EFI";
  /** Debian's signed shim and GRUB: the Secure Boot chain. */
  secureBoot: boolean;
}

export const ARCH_IMAGE_RECIPES = {
  x64: {
    debArch: "amd64",
    packages: [...COMMON_PACKAGES, "linux-image-amd64", "shim-signed", "grub-efi-amd64-signed"],
    rootType: "4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
    efiBootFile: "BOOTX64.EFI",
    secureBoot: true,
  },
  x86: {
    debArch: "i386",
    packages: [...COMMON_PACKAGES, "linux-image-686", "grub-efi-ia32-bin"],
    rootType: "44479540-f297-41b2-9af7-d131d5f0458a",
    efiTarget: "i386-efi",
    efiBootFile: "BOOTIA32.EFI",
    secureBoot: false,
  },
} as const satisfies Record<Arch, ArchImageRecipe>;

/** GPT partition types (UEFI §5.3.3 and the Discoverable Partitions Specification). */
export const PARTITION_TYPES = {
  biosBoot: "21686148-6449-6e6f-744e-656564454649",
  esp: "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
} as const;

const MiB = 1024 * 1024;
/** The disk layout: BIOS-boot (GRUB's core.img), ESP (FAT32), root (ext4) to the end. */
export const DISK_LAYOUT = {
  biosBootStart: 1 * MiB,
  biosBootSize: 1 * MiB,
  espStart: 2 * MiB,
  /** FAT32 needs 65,525 clusters: 64 MiB of 512-byte clusters holds them. */
  espSize: 64 * MiB,
  rootStart: 66 * MiB,
  /** The backup GPT (33 sectors) at the disk's end, rounded to 1 MiB. */
  tailSize: 1 * MiB,
} as const;

/** Default whole-disk size; the root filesystem grows to the real disk on first boot. */
export const DEFAULT_IMAGE_SIZE = 1536 * MiB;

/** Both consoles: the screen, and the serial line last so it is /dev/console (the markers). */
export const KERNEL_CMDLINE = "console=tty0 console=ttyS0,115200";
export const GRUB_TIMEOUT_SECONDS = 1;
export const DEFAULT_HOSTNAME = "debian";

/** Package ids of the images the reference build writes when no --id is given. */
export const DEFAULT_IDS = { x64: "OSI00064", x86: "OSI00086" } as const satisfies Record<Arch, string>;

/** Paths the build removes from the tree: apt's lists and caches, logs, docs beyond copyrights. */
export const STRIP_PATHS = [
  "var/lib/apt/lists",
  "var/cache/apt",
  "var/cache/debconf/config.dat-old",
  "var/cache/debconf/templates.dat-old",
  "var/cache/ldconfig/aux-cache",
  "var/log/dpkg.log",
  "var/log/apt",
  "var/log/alternatives.log",
  "var/log/bootstrap.log",
  "etc/ssh/ssh_host_*",
] as const;

/** dpkg path filters: no man pages, info, locales or docs (copyright files stay, the licences). */
export const DPKG_EXCLUDES = [
  "path-exclude=/usr/share/man/*",
  "path-exclude=/usr/share/info/*",
  "path-exclude=/usr/share/locale/*",
  "path-include=/usr/share/locale/locale.alias",
  "path-exclude=/usr/share/doc/*",
  "path-include=/usr/share/doc/*/copyright",
] as const;
