/**
 * El Torito bootable CD-ROM format (Phoenix/IBM 1995): the boot record volume descriptor,
 * the boot catalog, and mkisofs' boot-info-table that GRUB's and ISOLINUX's CD boot sectors read.
 */
import { SECTOR } from "./records.ts";
import { decodeRecord, defineRecord, encodeRecord, achars, bytes, u16le, u32le, u64le, u8, zchars } from "../record.ts";

export const EL_TORITO_ID = "EL TORITO SPECIFICATION";
export const PLATFORM = { BIOS: 0x00, EFI: 0xef } as const;
const BOOT_INDICATOR = { BOOTABLE: 0x88, NOT_BOOTABLE: 0x00 } as const;
export const SECTION_HEADER = { MORE: 0x90, FINAL: 0x91 } as const;
/** Boot media type (§2.2, Figure 9, offset 1): no emulation, three floppy sizes, hard disk. */
export const MEDIA_TYPE = { NONE: 0, FLOPPY_1_2: 1, FLOPPY_1_44: 2, FLOPPY_2_88: 3, HDD: 4 } as const;
/** Floppy emulation: the image size picks the media type (§2.2). */
export const FLOPPY_SIZES = [
  { bytes: 1_228_800, mediaType: MEDIA_TYPE.FLOPPY_1_2, name: "floppy-1.2" },
  { bytes: 1_474_560, mediaType: MEDIA_TYPE.FLOPPY_1_44, name: "floppy-1.44" },
  { bytes: 2_949_120, mediaType: MEDIA_TYPE.FLOPPY_2_88, name: "floppy-2.88" },
] as const;

export function mediaTypeName(mediaType: number): string {
  if (mediaType === MEDIA_TYPE.NONE) return "none";
  if (mediaType === MEDIA_TYPE.HDD) return "hdd";
  return FLOPPY_SIZES.find((f) => f.mediaType === mediaType)?.name ?? `0x${mediaType.toString(16)}`;
}
/** mkisofs' -boot-load-size 4: one 2048-byte CD sector in 512-byte virtual sectors. */
export const BIOS_LOAD_SECTORS = 4;

/** Boot record volume descriptor (El Torito §2.0, Figure 7). */
export const BOOT_RECORD = defineRecord(SECTOR, {
  type: u8(0),
  standardId: achars(1, 5),
  version: u8(6),
  bootSystemId: zchars(7, 32),
  bootId: zchars(39, 32),
  catalogLba: u32le(71),
});

/** Validation entry (§2.1, Figure 8): the words of the entry sum to zero. */
export const VALIDATION_ENTRY = defineRecord(32, {
  headerId: u8(0),
  platform: u8(1),
  idString: zchars(4, 24),
  checksum: u16le(28),
  key55: u8(30),
  keyAA: u8(31),
});

/** Initial/default entry (§2.2, Figure 9) and section entry (§2.4, Figure 11) share this shape. */
export const BOOT_ENTRY = defineRecord(32, {
  indicator: u8(0),
  mediaType: u8(1),
  loadSegment: u16le(2),
  systemType: u8(4),
  sectorCount: u16le(6),
  loadRba: u32le(8),
  selectionCriteria: u8(12),
});

/** Section header (§2.3, Figure 10). */
export const SECTION_HEADER_ENTRY = defineRecord(32, {
  indicator: u8(0),
  platform: u8(1),
  entries: u16le(2),
  idString: zchars(4, 28),
});

/** mkisofs -boot-info-table, patched into the boot image at byte 8 (genisoimage man page, "boot-info-table"). */
const BOOT_INFO_TABLE = defineRecord(64, {
  pvdLba: u32le(8),
  fileLba: u32le(12),
  fileLength: u32le(16),
  checksum: u32le(20),
  reserved: bytes(24, 40),
});

export interface CatalogImage {
  platform: number;
  lba: number;
  loadSectors: number;
  mediaType?: number;
  /** Hard-disk emulation: the partition type of the image's MBR (§2.2 "System Type"). */
  systemType?: number;
}

export function encodeBootRecord(catalogLba: number): Buffer {
  return encodeRecord(BOOT_RECORD, {
    type: 0,
    standardId: "CD001",
    version: 1,
    bootSystemId: EL_TORITO_ID,
    catalogLba,
  });
}

function encodeValidationEntry(platform: number): Buffer {
  const buf = encodeRecord(VALIDATION_ENTRY, { headerId: 1, platform, key55: 0x55, keyAA: 0xaa });
  let sum = 0;
  for (let i = 0; i < buf.length; i += 2) sum = (sum + buf.readUInt16LE(i)) & 0xffff;
  return encodeRecord(VALIDATION_ENTRY, { checksum: (0x10000 - sum) & 0xffff }, buf);
}

function encodeBootEntry(img: CatalogImage): Buffer {
  return encodeRecord(BOOT_ENTRY, {
    indicator: BOOT_INDICATOR.BOOTABLE,
    mediaType: img.mediaType ?? MEDIA_TYPE.NONE,
    loadSegment: 0,
    systemType: img.systemType ?? 0,
    sectorCount: img.loadSectors,
    loadRba: img.lba,
  });
}

/** Entries a 2048-byte catalog holds: validation + default entry, then section headers and entries. */
export const MAX_CATALOG_ENTRIES = SECTOR / BOOT_ENTRY.size - 2;

/**
 * The catalog: validation entry, the first image as default entry, then one section per run of
 * further images of the same platform (§2.3: a section header counts the entries that follow it).
 */
export function encodeBootCatalog(images: CatalogImage[]): Buffer {
  const out = Buffer.alloc(SECTOR);
  const [first, ...rest] = images;
  const parts = [encodeValidationEntry(first.platform), encodeBootEntry(first)];
  const sections: CatalogImage[][] = [];
  for (const img of rest) {
    const last = sections[sections.length - 1];
    if (last && last[0].platform === img.platform) last.push(img);
    else sections.push([img]);
  }
  sections.forEach((section, i) => {
    const indicator = i === sections.length - 1 ? SECTION_HEADER.FINAL : SECTION_HEADER.MORE;
    parts.push(
      encodeRecord(SECTION_HEADER_ENTRY, { indicator, platform: section[0].platform, entries: section.length }),
      ...section.map(encodeBootEntry),
    );
  });
  const all = Buffer.concat(parts);
  if (all.length > SECTOR) throw new RangeError(`boot catalog of ${all.length} bytes exceeds one sector`);
  all.copy(out);
  return out;
}

/** Whether an image's bytes 8..19 are a boot-info-table pointing at it (what xorriso -report_el_torito calls boot-info-table). */
export function hasBootInfoTable(head: Buffer, pvdLba: number, fileLba: number, fileLength?: number): boolean {
  if (head.length < 24) return false;
  const t = decodeRecord(
    BOOT_INFO_TABLE,
    Buffer.concat([head, Buffer.alloc(Math.max(0, BOOT_INFO_TABLE.size - head.length))]),
  );
  return t.pvdLba === pvdLba && t.fileLba === fileLba && (fileLength === undefined || t.fileLength === fileLength);
}

/** Whether GRUB's blocklist start at byte 2548 holds the image's 512-byte LBA + 5 (xorriso --grub2-boot-info). */
export function hasGrub2BootInfo(head: Buffer, fileLba: number): boolean {
  return (
    head.length >= GRUB2_BOOT_INFO.size &&
    decodeRecord(GRUB2_BOOT_INFO, head).blocklistStart === BigInt(fileLba * 4 + 5)
  );
}

/** Patches the boot-info-table into a boot image held in memory; checksum = sum of LE u32 words from byte 64. */
export function patchBootInfoTable(image: Buffer, pvdLba: number, fileLba: number): void {
  let sum = 0;
  const padded = image.length % 4 === 0 ? image : Buffer.concat([image, Buffer.alloc(4 - (image.length % 4))]);
  for (let i = BOOT_INFO_TABLE.size; i < padded.length; i += 4) sum = (sum + padded.readUInt32LE(i)) >>> 0;
  encodeRecord(
    BOOT_INFO_TABLE,
    { pvdLba, fileLba, fileLength: image.length, checksum: sum, reserved: Buffer.alloc(40) },
    image,
  );
}

/**
 * GRUB's i386-pc-eltorito image is cdboot.img (2048 bytes) + core.img. When the same image is
 * booted from a disk by boot_hybrid.img, core.img's diskboot.img loads the rest from its
 * blocklist, whose start sector lives at byte 500 of diskboot (2048 + 500 = 2548). xorriso's
 * --grub2-boot-info writes the image's 512-byte LBA + 5 there (the sector after diskboot).
 */
export const GRUB2_BOOT_INFO = defineRecord(2556, { blocklistStart: u64le(2548) });

export function patchGrub2BootInfo(image: Buffer, fileLba: number): void {
  if (image.length < GRUB2_BOOT_INFO.size) return;
  encodeRecord(GRUB2_BOOT_INFO, { blocklistStart: BigInt(fileLba * 4 + 5) }, image);
}
