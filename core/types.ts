/** The values that flow through the pipeline, stage by stage. */
import type { Arch, Firmware } from "./compat.ts";
import type { MediaSpec } from "./spec-schema.ts";
import type { ResolvedTarget } from "./target.ts";
import type { FileSource } from "../base/tree.ts";
import type { PartitionTableKind } from "../formats/disk/partitions.ts";

export const PACKAGE_TYPES = ["boot-image", "prestart", "task-sequence", "os-image"] as const;
export type PackageType = (typeof PACKAGE_TYPES)[number];

/** Boot files a boot-image package can carry, by role (writers pick the roles they use). */
/** `uefi-x64-loader`: the loader a shim starts from its own folder (EFI/BOOT/grubx64.efi), in Secure Boot chains. */
export const BOOT_FILE_ROLES = [
  "bios-eltorito",
  "bios-hybrid",
  "bios-mbr",
  "bios-core",
  "uefi-x86",
  "uefi-x64",
  "uefi-x64-loader",
] as const;
export type BootFileRole = (typeof BOOT_FILE_ROLES)[number];

export interface ManifestFile {
  /** Where the file lands on the media (relative, "/"-separated). */
  path: string;
  size: number;
  sha256: string;
}

/**
 * How the testbed judges an image that prints no BOOTMEDIA markers (docs/testbed.md,
 * "Images without the bootmedia agent"); carried into media.json with the image.
 */
export interface BootImageTestbed {
  /** Regular expressions; the case passes when one shows up on the serial line or the VGA text screen. */
  pass?: { serial?: string; screen?: string };
  /** The least memory (MiB) the image runs properly with; raises the machine profile's. */
  memoryMiB?: number;
}

/**
 * A boot image as its manifest describes it: a kernel (an x86 Linux bzImage), an optional
 * initrd, and the command line to boot it with. Nothing of the boot loader: bootmedia
 * generates that for the media (plugins/boot-loader/).
 */
export interface BootImageInfo {
  arch: Arch;
  /** The firmware it boots on; all of them when absent. */
  firmware?: Firmware[];
  drivers: string[];
  /** Media paths of files the package lists. */
  kernel: string;
  initrd?: string;
  /** The image's own kernel command line. */
  cmdline?: string;
  testbed?: BootImageTestbed;
}

/** How an os-image package's file is stored; the file name ends in `.raw` + the suffix. */
export const OS_IMAGE_COMPRESSIONS = ["none", "zstd", "xz", "gzip"] as const;
export type OsImageCompression = (typeof OS_IMAGE_COMPRESSIONS)[number];
export const OS_IMAGE_SUFFIX = {
  none: ".raw",
  zstd: ".raw.zst",
  xz: ".raw.xz",
  gzip: ".raw.gz",
} as const satisfies Record<OsImageCompression, string>;

/** A partition of an OS image, as its table says (bytes from the disk's start). */
export interface OsImagePartition {
  /** GPT entry number or MBR slot, from 1. */
  index: number;
  start: number;
  size: number;
  /** GPT type GUID, lower-case, or the MBR type byte ("0x83"). */
  type: string;
  /** GPT partition name. */
  name?: string;
}

/**
 * A whole-disk image as its manifest describes it (docs/content-library.md, "OS images"):
 * what the deployment engine writes to a disk and mounts afterwards.
 */
export interface OsImageInfo {
  arch: Arch;
  /** The firmware it boots: from its table (ESP: uefi; BIOS-boot partition or MBR boot code: bios) or as given. */
  firmware: Firmware[];
  /** Carries a Secure Boot chain (shim signed by Microsoft's UEFI CA). */
  secureBoot: boolean;
  /** Media path of the image, one of the package's files. */
  image: string;
  compression: OsImageCompression;
  /** Uncompressed bytes: what lands on the disk. */
  size: number;
  /** sha256 of the uncompressed bytes (the files entry holds the stored bytes' sha256). */
  sha256: string;
  partitionTable: PartitionTableKind;
  partitions: OsImagePartition[];
  /** Index of the partition write-files mounts (the Linux root). */
  rootPartition: number;
  testbed?: BootImageTestbed;
}

export interface ContentPackage {
  id: string;
  type: PackageType;
  name: string;
  version: string;
  bootImage?: BootImageInfo;
  osImage?: OsImageInfo;
  files: ManifestFile[];
}

/** A boot-image package whose manifest describes its image. */
export type BootImagePackage = ContentPackage & { type: "boot-image"; bootImage: BootImageInfo };

/** One file to put on the media: where it comes from, what it must hash to. */
export interface ContentItem extends ManifestFile {
  /** The package it belongs to, or a pseudo-id like "prestart-files". */
  packageId: string;
  /** Where to get it: a library folder path, a URL, or a local file outside any library. */
  origin: { kind: string; location: string };
  /** Filled by the fetch stage: a verified local copy. */
  localPath?: string;
}

export type { Target } from "./spec-schema.ts";
export type { ResolvedTarget } from "./target.ts";

/** The spec after resolve: packages and every content item the media needs. */
export interface ResolvedMedia {
  spec: MediaSpec;
  /** Folder of the spec file. */
  specDir: string;
  /** The build's target, resolved once (the same value as the context's `target`). */
  target: ResolvedTarget;
  /** The spec's boot-image package ids, in its order: the packages resolve taps look up. */
  bootImageIds: readonly string[];
  /**
   * The boot images on the media, derived once by core when every resolve tap has run: the
   * packages of `bootImageIds` that are boot images, in package order (empty during resolve).
   */
  bootImages: readonly BootImagePackage[];
  packages: ContentPackage[];
  items: ContentItem[];
}

/** Where a layout entry's bytes come from. */
export type EntrySource =
  | { kind: "content"; sha256: string }
  /** A byte range of a content item: one part of a file split across CD/DVD volumes. */
  | { kind: "slice"; sha256: string; offset: number; length: number }
  | FileSource;

export interface LayoutFile {
  type: "file";
  path: string;
  size: number;
  source: EntrySource;
  mode?: number;
}
export interface LayoutDir {
  type: "dir";
  path: string;
  mode?: number;
}
export type LayoutEntry = LayoutFile | LayoutDir;

/** A boot path for one firmware and machine bitness, pointing at boot files in the tree. */
export interface BootEntry {
  firmware: Firmware;
  arch: Arch;
  role: BootFileRole;
  /** Media path of the boot file. */
  path: string;
}

export interface Volume {
  /** 1-based sequence number (CD/DVD sets). */
  index: number;
  label: string;
  entries: LayoutEntry[];
  boot: BootEntry[];
}

/** The media configuration every writer puts in bootmedia/ (see docs/media-config.md). */
export interface MediaConfig {
  schema: 1;
  id: string;
  taskSequence: string;
  images: Array<{
    id: string;
    arch: Arch;
    kernel: string;
    initrd?: string;
    drivers: string[];
    testbed?: BootImageTestbed;
  }>;
  /** The prestart command and its folder on the media (set by the prestart plugin at LAYOUT_STAGE.CONTENT). */
  prestart?: { command: string; dir: string };
  [key: string]: unknown;
}

export interface MediaLayout {
  volumes: Volume[];
  config: MediaConfig;
}

export interface WriteResult {
  outputs: Array<{ path: string; bytes: number; sha256?: string }>;
}
