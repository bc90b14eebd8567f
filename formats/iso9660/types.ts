/** Public types of the ISO 9660 writer and reader. */

export interface IsoBootOptions {
  /** BIOS El Torito no-emulation entry (platform 0x00); the image gets a boot-info-table and load size 4. */
  bios?: { image: string /* media path of a file in the tree */ };
  /** UEFI El Torito entry (platform 0xEF) for an ESP FAT image that is a file in the tree, e.g. boot/efi.img. */
  efi?: { image: string };
}

export interface IsoHybridOptions {
  /** MBR boot code (e.g. GRUB's boot_hybrid.img); bytes 0..439 land in the MBR. */
  mbrCode?: Uint8Array;
  /**
   * "grub2" (default): as grub-mkrescue's xorriso --grub2-mbr --grub2-boot-info, writes the BIOS
   * image's 512-byte LBA + 4 at MBR 0x1b0 and its LBA + 5 at byte 2548 of the image (GRUB's
   * i386-pc-eltorito layout). "none" copies the boot code unchanged.
   */
  mbrPatch?: "grub2" | "none";
  /** Write a GPT (protective MBR + EFI System Partition entry over the ESP image) instead of an MBR 0xEF partition. */
  gpt?: boolean;
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
  loadSegment: number;
  loadSectors: number;
  lba: number;
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
  files: IsoFileInfo[];
}
