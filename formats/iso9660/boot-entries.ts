/**
 * The El Torito entries the options ask for, checked and resolved: platform byte, image (a file
 * of the tree or an appended partition), media type, load size and patches, with xorriso's
 * defaults (El Torito §2.2; genisoimage/xorriso man pages for -boot-load-size, -boot-info-table).
 */
import { BootmediaError } from "../../base/errors.ts";
import { BIOS_LOAD_SECTORS, FLOPPY_SIZES, MAX_CATALOG_ENTRIES, MEDIA_TYPE, PLATFORM } from "./eltorito.ts";
import type { FileNode } from "./tree.ts";
import { BOOT_EMULATIONS, type IsoAppendedPartition, type IsoBootEntry, type IsoOptions } from "./types.ts";
import "./codes.ts";

/** El Torito: load size 0 when the image has more 512-byte sectors than the 16-bit field holds (as xorriso does). */
export const MAX_LOAD_SECTORS = 0xffff;

export interface ResolvedBootEntry {
  platform: number;
  /** The tree file, or the appended partition, holding the image. */
  node?: FileNode;
  partition?: PlacedPartition;
  lba: number;
  bytes: number;
  mediaType: number;
  loadSectors: number;
  bootInfoTable: boolean;
  grub2BootInfo: boolean;
}

export interface PlacedPartition {
  part: IsoAppendedPartition;
  lba: number;
  sectors: number;
}

export const platformByte = (p: IsoBootEntry["platform"]) =>
  p === "bios" ? PLATFORM.BIOS : p === "efi" ? PLATFORM.EFI : p;

/** The catalog entries the options ask for: `boot.entries`, or the `bios`/`efi` shorthand (BIOS: load size 4 and a boot-info-table). */
export function bootEntriesOf(opts: IsoOptions): IsoBootEntry[] {
  const b = opts.boot;
  if (!b) return [];
  if (b.entries) return b.entries;
  const grub2 = Boolean(opts.hybrid?.mbrCode && (opts.hybrid.mbrPatch ?? "grub2") === "grub2");
  return [
    ...(b.bios ? [{ platform: "bios" as const, image: b.bios.image, bootInfoTable: true, grub2BootInfo: grub2 }] : []),
    ...(b.efi ? [{ platform: "efi" as const, image: b.efi.image }] : []),
  ];
}

/** Tree paths whose bytes the writer patches or inspects in memory (not copied by the payload copier). */
export function inlineBootPaths(opts: IsoOptions): Set<string> {
  const out = new Set<string>();
  for (const e of bootEntriesOf(opts))
    if (typeof e.image === "string" && (e.bootInfoTable || e.grub2BootInfo || e.emulation === "hdd")) out.add(e.image);
  return out;
}

export function validateBootEntries(entries: IsoBootEntry[], parts: IsoAppendedPartition[]): void {
  const bad = (msg: string) => new BootmediaError("BM3108", msg);
  const numbers = new Set<number>();
  for (const p of parts) {
    if (!Number.isInteger(p.number) || p.number < 2 || p.number > 4 || numbers.has(p.number))
      throw bad(`appended partition number ${p.number}: 2, 3 or 4, each once`);
    if (!Number.isInteger(p.type) || p.type < 1 || p.type > 0xff)
      throw bad(`appended partition ${p.number}: type ${p.type} is not a byte 0x01-0xFF`);
    if (!(p.source.size > 0)) throw bad(`appended partition ${p.number} is empty`);
    numbers.add(p.number);
  }
  let slots = entries.length ? 2 : 0;
  let lastPlatform: number | undefined;
  entries.forEach((e, i) => {
    const platform = platformByte(e.platform);
    if (!Number.isInteger(platform) || platform < 0 || platform > 0xff)
      throw bad(`boot entry ${i + 1}: platform ${e.platform} is not bios, efi or a byte`);
    if (e.emulation !== undefined && !BOOT_EMULATIONS.includes(e.emulation))
      throw bad(`boot entry ${i + 1}: emulation ${e.emulation} (none, floppy or hdd)`);
    if (
      e.loadSectors !== undefined &&
      (!Number.isInteger(e.loadSectors) || e.loadSectors < 0 || e.loadSectors > MAX_LOAD_SECTORS)
    )
      throw bad(`boot entry ${i + 1}: load size ${e.loadSectors} is not 0-65535`);
    if (typeof e.image !== "string" && !numbers.has(e.image.appendedPartition))
      throw bad(`boot entry ${i + 1}: no appended partition ${e.image.appendedPartition}`);
    if (i > 0) slots += platform === lastPlatform ? 1 : 2;
    lastPlatform = i > 0 ? platform : undefined;
  });
  if (slots > MAX_CATALOG_ENTRIES + 2)
    throw bad(
      `${entries.length} boot entries need ${slots} catalog slots; one sector holds ${MAX_CATALOG_ENTRIES + 2}`,
    );
}

/** A catalog entry with its address, media type and load size (defaults as xorriso's). */
export function resolveBootEntry(
  e: IsoBootEntry,
  i: number,
  node: FileNode | undefined,
  appended: PlacedPartition[],
): ResolvedBootEntry {
  const platform = platformByte(e.platform);
  const partition =
    typeof e.image === "string"
      ? undefined
      : appended.find((p) => p.part.number === (e.image as { appendedPartition: number }).appendedPartition)!;
  const bytes = node ? node.entry.size : partition!.part.source.size;
  const lba = node ? node.extents[0].lba : partition!.lba;
  let mediaType: number = MEDIA_TYPE.NONE;
  if (e.emulation === "floppy") {
    const floppy = FLOPPY_SIZES.find((f) => f.bytes === bytes);
    if (!floppy)
      throw new BootmediaError(
        "BM3108",
        `boot entry ${i + 1}: floppy emulation needs an image of ${FLOPPY_SIZES.map((f) => f.bytes).join(", ")} bytes; it has ${bytes}`,
        { where: typeof e.image === "string" ? e.image : undefined },
      );
    mediaType = floppy.mediaType;
  } else if (e.emulation === "hdd") mediaType = MEDIA_TYPE.HDD;
  const whole = Math.ceil(bytes / 512);
  const loadSectors =
    e.loadSectors ??
    (mediaType !== MEDIA_TYPE.NONE
      ? 1
      : platform === PLATFORM.BIOS
        ? BIOS_LOAD_SECTORS
        : whole > MAX_LOAD_SECTORS
          ? 0
          : whole);
  return {
    platform,
    node,
    partition,
    lba,
    bytes,
    mediaType,
    loadSectors,
    bootInfoTable: Boolean(e.bootInfoTable),
    grub2BootInfo: Boolean(e.grub2BootInfo),
  };
}
