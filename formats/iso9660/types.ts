/** Public types of the ISO 9660 writer and reader. */

/** El Torito emulation of a boot entry (El Torito §2.2 media type); the floppy size follows from the image's size. */
export const BOOT_EMULATIONS = ["none", "floppy", "hdd"] as const;
export type BootEmulation = (typeof BOOT_EMULATIONS)[number];

/** One El Torito catalog entry (mkisofs/xorriso: -b / -e with -no-emul-boot, -boot-load-size, -boot-info-table). */
export interface IsoBootEntry {
  /** "bios" = 0x00, "efi" = 0xEF, or another platform id byte. */
  platform: "bios" | "efi" | number;
  /** Media path of a file in the tree, or an appended partition by number (xorriso -e --interval:appended_partition_N). */
  image: string | { appendedPartition: number };
  /** Default "none"; "floppy" needs an image of 1.2, 1.44 or 2.88 MB; "hdd" an image starting with an MBR. */
  emulation?: BootEmulation;
  /**
   * 512-byte sectors the firmware loads. Default: BIOS no-emulation 4 (mkisofs -boot-load-size 4),
   * other platforms the whole image (0 beyond 65535), emulation 1 (as xorriso).
   */
  loadSectors?: number;
  /** Patch mkisofs' boot-info-table at bytes 8..63 of the image (-boot-info-table); default off. */
  bootInfoTable?: boolean;
  /** Patch GRUB's core.img blocklist start at byte 2548 (xorriso --grub2-boot-info); default off. */
  grub2BootInfo?: boolean;
}

export interface IsoBootOptions {
  /** BIOS El Torito no-emulation entry (platform 0x00); the image gets a boot-info-table and load size 4. */
  bios?: { image: string /* media path of a file in the tree */ };
  /** UEFI El Torito entry (platform 0xEF) for an ESP FAT image that is a file in the tree, e.g. boot/efi.img. */
  efi?: { image: string };
  /** Explicit catalog entries, in catalog order (the first is the default entry); used instead of bios/efi. */
  entries?: IsoBootEntry[];
}

export interface IsoHybridOptions {
  /**
   * MBR boot code (e.g. GRUB's boot_hybrid.img, ISOLINUX's isohdpfx.bin): bytes 0..439 land in
   * the MBR; a longer system area (up to 32 KiB, xorriso -G) keeps its bytes from 512 on.
   */
  mbrCode?: Uint8Array;
  /**
   * "grub2" (default): as grub-mkrescue's xorriso --grub2-mbr --grub2-boot-info, writes the BIOS
   * image's 512-byte LBA + 4 at MBR 0x1b0 and (with the `boot.bios` shorthand) its LBA + 5 at
   * byte 2548 of the image (GRUB's i386-pc-eltorito layout). "isohybrid": ISOLINUX's
   * isohdpfx.bin (xorriso -isohybrid-mbr) reads the image's 512-byte LBA at 0x1b0. "none"
   * copies the boot code unchanged.
   */
  mbrPatch?: "grub2" | "isohybrid" | "none";
  /** Write a GPT (protective MBR + EFI System Partition entry over the ESP image) instead of an MBR 0xEF partition. */
  gpt?: boolean;
  /**
   * MBR partition 1 over the ISO itself, as xorriso writes it with appended partitions or
   * --protective-msdos-label: its type (0x00, 0x17, 0xCD...), first 512-byte sector (0 or 1)
   * and active flag. Unset: the ESP-only table described in README.md.
   */
  isoPartition?: { type: number; start: 0 | 1; bootable: boolean };
}

/** A file appended after the ISO tree as an MBR (and GPT) partition (xorriso -append_partition N TYPE FILE). */
export interface IsoAppendedPartition {
  /** MBR slot 2..4 (slot 1 is the ISO's own partition). */
  number: number;
  /** MBR partition type byte, e.g. 0xEF for an EFI System Partition. */
  type: number;
  /** Host file and the byte range of it to append (a whole file when offset 0 and size its size). */
  source: { path: string; offset: number; size: number };
}

export interface IsoOptions {
  /** d-characters (A-Z 0-9 _), 1-32 of them; bad -> BM3101. */
  volumeId: string;
  /** Seconds since 1970; every date and id of the image derives from it. */
  sourceDateEpoch: number;
  publisher?: string;
  application?: string;
  boot?: IsoBootOptions;
  /** Makes the image bootable when written raw to a disk/USB stick (system area MBR/GPT). */
  hybrid?: IsoHybridOptions;
  /** Files appended after the ISO tree as partitions (their own MBR slots; El Torito may point at them). */
  appendPartitions?: IsoAppendedPartition[];
  onProgress?: (bytesWritten: number, totalBytes: number) => void;
}

export interface IsoExtent {
  lba: number;
  length: number;
}

export interface IsoPlannedFile {
  path: string;
  size: number;
  extents: IsoExtent[];
}

export interface IsoRegion {
  name: string;
  lba: number;
  sectors: number;
}

/** What `planIso` returns: where everything goes, computed without reading file data. */
export interface IsoPlan {
  volumeId: string;
  totalSectors: number;
  totalBytes: number;
  directories: number;
  files: IsoPlannedFile[];
  /** Metadata regions in LBA order (descriptors, catalog, path tables, directories). */
  regions: IsoRegion[];
  boot: { bios?: { image: string; lba: number }; efi?: { image: string; lba: number; loadSectors: number } };
  /** Every catalog entry as it will be written. */
  bootEntries: Array<{ platform: number; image: string; lba: number; mediaType: number; loadSectors: number }>;
}

export interface IsoVolumeDescriptorInfo {
  type: "primary" | "supplementary" | "boot" | "terminator" | "other";
  lba: number;
  volumeId?: string;
  escape?: string;
  volumeSpaceSize?: number;
  systemId?: string;
  publisherId?: string;
  applicationId?: string;
  creationDate?: string;
  bootSystemId?: string;
  catalogLba?: number;
}

export interface IsoBootEntryInfo {
  platform: "bios" | "efi" | number;
  bootable: boolean;
  emulation: number;
  /** The emulation by name ("none", "floppy-1.44", "hdd", ...). */
  emulationName: string;
  loadSegment: number;
  loadSectors: number;
  lba: number;
  /** The image carries a boot-info-table that points at it (bytes 8..19: PVD LBA, its LBA, its length). */
  bootInfoTable: boolean;
  /** GRUB's core.img blocklist start at byte 2548 points at the sector after cdboot (xorriso --grub2-boot-info). */
  grub2BootInfo: boolean;
  /** Media path of the file the entry points at, when one does (else hidden or in an appended partition). */
  path?: string;
}

/** What the system area (sectors 0-15) holds besides the partition table. */
export interface IsoSystemAreaInfo {
  mbrBootCode: boolean;
  /** How the boot code finds the BIOS image: "grub2" (0x1b0 = image LBA*4 + 4), "isohybrid" (= LBA*4), or none. */
  mbrPatch: "grub2" | "isohybrid" | "none";
  /** Bytes 512..32767 hold something (a GPT or an -G system area). */
  beyondMbr: boolean;
  gpt: boolean;
}

export interface IsoPartitionInfo {
  scheme: "mbr" | "gpt";
  index: number;
  /** MBR type byte as hex ("0xef") or GPT type GUID. */
  type: string;
  bootable?: boolean;
  startSector: number;
  sectors: number;
  name?: string;
}

export interface IsoFileInfo {
  path: string;
  type: "file" | "dir";
  size: number;
  mode?: number;
  extents: IsoExtent[];
}

export interface IsoInfo {
  descriptors: IsoVolumeDescriptorInfo[];
  volumeId: string;
  volumeSpaceSize: number;
  /** Which name view the file list uses. */
  names: "rockridge" | "joliet" | "iso9660";
  bootEntries: IsoBootEntryInfo[];
  partitions: IsoPartitionInfo[];
  mbrBootCode: boolean;
  systemArea: IsoSystemAreaInfo;
  files: IsoFileInfo[];
}
