/**
 * Reads an ISO 9660 image back for `bootmedia inspect`: volume descriptors, El Torito
 * entries, MBR/GPT partitions of the system area, and the file list in the richest name
 * view present (Rock Ridge, else Joliet, else ISO 9660). Tests check it against xorriso.
 */
import { BootmediaError } from "../../base/errors.ts";
import { MBR, MBR_SIGNATURE, PARTITION_RECORD } from "../disk/mbr.ts";
import { ImageFile, type ImageErrors } from "../image-file.ts";
import { decodeRecord } from "../record.ts";
import {
  BOOT_ENTRY,
  BOOT_RECORD,
  EL_TORITO_ID,
  GRUB2_BOOT_INFO,
  hasBootInfoTable,
  hasGrub2BootInfo,
  mediaTypeName,
  PLATFORM,
  SECTION_HEADER,
  SECTION_HEADER_ENTRY,
  VALIDATION_ENTRY,
} from "./eltorito.ts";
import { decodeGuid, GPT_ENTRY, GPT_HEADER } from "../disk/gpt.ts";
import { GRUB2_MBR_PATCH, ISOHYBRID_MBR_PATCH } from "./hybrid.ts";
import { decodeUcs2 } from "./names.ts";
import { beyondLimits, listTree, parseRecords, type RawRecord } from "./read-tree.ts";
import { DESCRIPTOR_HEADER, SECTOR, STANDARD_ID, SYSTEM_AREA_SECTORS, VD_TYPE, VOLUME_DESCRIPTOR } from "./records.ts";
import type {
  IsoBootEntryInfo,
  IsoFileInfo,
  IsoInfo,
  IsoPartitionInfo,
  IsoSystemAreaInfo,
  IsoVolumeDescriptorInfo,
} from "./types.ts";
import "./codes.ts";

/** Largest file readIsoFile returns: it is for configuration files, not payloads. */
const MAX_READ_FILE_BYTES = 64 * 2 ** 20;
/** Volume descriptors read before the terminator must appear (§8.3). */
const MAX_DESCRIPTORS = 64;
const DISK_SECTOR = 512;

function isoErrors(path: string): ImageErrors {
  return {
    cannotOpen: (cause) =>
      new BootmediaError("BM4104", `cannot open ${path}: ${cause.message}`, { where: path, cause }),
    damaged: (message) => new BootmediaError("BM4106", `ISO image damaged: ${message}`, { where: path }),
  };
}

/** MBR and GPT partitions of the system area (UEFI §5.2.1, §5.3), as a USB stick's firmware sees them. */
function readPartitions(img: ImageFile, area: Buffer): { partitions: IsoPartitionInfo[]; mbrBootCode: boolean } {
  const partitions: IsoPartitionInfo[] = [];
  const mbr = decodeRecord(MBR, area);
  if (mbr.Signature !== MBR_SIGNATURE) return { partitions, mbrBootCode: false };
  for (let i = 0; i < 4; i++) {
    const p = decodeRecord(PARTITION_RECORD, mbr.PartitionRecord, i * PARTITION_RECORD.size);
    if (p.OSType === 0 && p.SizeInLBA === 0) continue;
    partitions.push({
      scheme: "mbr",
      index: i + 1,
      type: `0x${p.OSType.toString(16).padStart(2, "0")}`,
      bootable: p.BootIndicator === 0x80,
      startSector: p.StartingLBA,
      sectors: p.SizeInLBA,
    });
  }
  const gpt = decodeRecord(GPT_HEADER, area, DISK_SECTOR);
  if (gpt.signature === "EFI PART") {
    // Entries are 128 * 2^n bytes (UEFI §5.3.2); anything else cannot be stepped through.
    if (gpt.entrySize < GPT_ENTRY.size || gpt.entrySize % GPT_ENTRY.size !== 0)
      throw img.damaged(`GPT entries of ${gpt.entrySize} bytes`);
    const base = Number(gpt.entriesLba) * DISK_SECTOR;
    for (let i = 0; i < gpt.entryCount && base + (i + 1) * gpt.entrySize <= area.length; i++) {
      const e = decodeRecord(GPT_ENTRY, area, base + i * gpt.entrySize);
      if (e.typeGuid.every((b) => b === 0)) continue;
      partitions.push({
        scheme: "gpt",
        index: i + 1,
        type: decodeGuid(e.typeGuid),
        startSector: Number(e.firstLba),
        sectors: Number(e.lastLba - e.firstLba) + 1,
        name: e.name.toString("utf16le").replace(/\0+$/, ""),
      });
    }
  }
  return { partitions, mbrBootCode: mbr.BootCode.some((b) => b !== 0) };
}

type RawBootEntry = Pick<
  IsoBootEntryInfo,
  "platform" | "bootable" | "emulation" | "loadSegment" | "loadSectors" | "lba"
>;

/** The El Torito boot catalog (§2): validation entry, default entry, then sections. */
function readBootCatalog(img: ImageFile, cat: Buffer): RawBootEntry[] {
  const out: RawBootEntry[] = [];
  const v = decodeRecord(VALIDATION_ENTRY, cat);
  if (v.headerId !== 1 || v.key55 !== 0x55 || v.keyAA !== 0xaa) return out;
  const platformOf = (p: number) => (p === PLATFORM.BIOS ? "bios" : p === PLATFORM.EFI ? "efi" : p);
  const entry = (at: number, platform: number) => {
    const e = decodeRecord(BOOT_ENTRY, cat, at);
    out.push({
      platform: platformOf(platform),
      bootable: e.indicator === 0x88,
      emulation: e.mediaType,
      loadSegment: e.loadSegment,
      loadSectors: e.sectorCount,
      lba: e.loadRba,
    });
  };
  const ENTRY = BOOT_ENTRY.size;
  entry(VALIDATION_ENTRY.size, v.platform);
  for (let at = VALIDATION_ENTRY.size + ENTRY; at + ENTRY <= cat.length; ) {
    const h = decodeRecord(SECTION_HEADER_ENTRY, cat, at);
    if (h.indicator !== SECTION_HEADER.MORE && h.indicator !== SECTION_HEADER.FINAL) break;
    if (at + ENTRY * (h.entries + 1) > cat.length)
      throw img.damaged(`boot catalog section at byte ${at} claims ${h.entries} entries`);
    for (let i = 0; i < h.entries; i++) entry(at + ENTRY * (i + 1), h.platform);
    at += ENTRY * (h.entries + 1);
    if (h.indicator === SECTION_HEADER.FINAL) break;
  }
  return out;
}

function rootOf(img: ImageFile, vd: Buffer, which: string): RawRecord {
  const root = parseRecords(
    img,
    decodeRecord(VOLUME_DESCRIPTOR, vd).rootDirectoryRecord,
    `root record of the ${which} descriptor`,
  )[0];
  if (!root) throw img.damaged(`the ${which} volume descriptor holds no root directory record`);
  return root;
}

interface Descriptors {
  list: IsoVolumeDescriptorInfo[];
  pvd?: Buffer;
  svd?: Buffer;
  catalogLba?: number;
}

/** The volume descriptor set from sector 16 to its terminator (§8). */
async function readDescriptors(img: ImageFile): Promise<Descriptors> {
  const out: Descriptors = { list: [] };
  for (let lba = SYSTEM_AREA_SECTORS; lba < SYSTEM_AREA_SECTORS + MAX_DESCRIPTORS; lba++) {
    if (!img.holds(lba * SECTOR, SECTOR)) {
      if (lba === SYSTEM_AREA_SECTORS) break;
      throw img.damaged(`the image ends inside the volume descriptor set (sector ${lba})`);
    }
    const vd = await img.read(lba * SECTOR, SECTOR, `volume descriptor ${lba}`);
    const head = decodeRecord(DESCRIPTOR_HEADER, vd);
    if (head.standardId !== STANDARD_ID) {
      if (lba === SYSTEM_AREA_SECTORS) break;
      throw img.damaged(`sector ${lba} breaks the volume descriptor set before its terminator`);
    }
    const type = head.type;
    if (type === VD_TYPE.PRIMARY || type === VD_TYPE.SUPPLEMENTARY) {
      const d = decodeRecord(VOLUME_DESCRIPTOR, vd);
      if (d.logicalBlockSize !== SECTOR)
        throw img.damaged(
          `volume descriptor ${lba} has logical blocks of ${d.logicalBlockSize} bytes (ECMA-119 §6.1.2: 2048 here)`,
        );
      const escape = d.escapeSequences.toString("latin1").replace(/\0+$/, "");
      const joliet = type === VD_TYPE.SUPPLEMENTARY && /^%\/[@CE]/.test(escape);
      const text = (b: Buffer) => (joliet ? decodeUcs2(b) : b.toString("latin1")).replace(/[ \0]+$/, "");
      out.list.push({
        type: type === VD_TYPE.PRIMARY ? "primary" : "supplementary",
        lba,
        volumeId: text(d.volumeId),
        escape: escape || undefined,
        volumeSpaceSize: d.volumeSpaceSize,
        systemId: text(d.systemId),
        publisherId: text(d.publisherId),
        applicationId: text(d.applicationId),
        creationDate: d.creationDate.toString("latin1", 0, 16),
      });
      if (type === VD_TYPE.PRIMARY) out.pvd ??= vd;
      else if (joliet) out.svd ??= vd;
    } else if (type === VD_TYPE.BOOT) {
      const b = decodeRecord(BOOT_RECORD, vd);
      out.list.push({
        type: "boot",
        lba,
        bootSystemId: b.bootSystemId,
        catalogLba: b.bootSystemId === EL_TORITO_ID ? b.catalogLba : undefined,
      });
      if (b.bootSystemId === EL_TORITO_ID) out.catalogLba = b.catalogLba;
    } else {
      out.list.push({ type: type === VD_TYPE.TERMINATOR ? "terminator" : "other", lba });
      if (type === VD_TYPE.TERMINATOR) return out;
    }
  }
  if (out.list.length) throw img.damaged(`no volume descriptor set terminator in ${MAX_DESCRIPTORS} sectors`);
  return out;
}

/** What each entry's image holds (boot-info-table, GRUB's blocklist patch) and which file it is; reads at most 2556 bytes of each. */
async function describeBootEntries(
  img: ImageFile,
  raw: RawBootEntry[],
  pvdLba: number,
  files: IsoFileInfo[],
): Promise<IsoBootEntryInfo[]> {
  const out: IsoBootEntryInfo[] = [];
  for (const e of raw) {
    const at = e.lba * SECTOR;
    const n = Math.max(0, Math.min(GRUB2_BOOT_INFO.size, img.size - at));
    const head = n > 0 && img.holds(at, n) ? await img.read(at, n, `boot image at LBA ${e.lba}`) : Buffer.alloc(0);
    const file = files.find((f) => f.type === "file" && f.size > 0 && f.extents[0]?.lba === e.lba);
    out.push({
      ...e,
      emulationName: mediaTypeName(e.emulation),
      bootInfoTable: hasBootInfoTable(head, pvdLba, e.lba),
      grub2BootInfo: hasGrub2BootInfo(head, e.lba),
      ...(file ? { path: file.path } : {}),
    });
  }
  return out;
}

/** What the MBR code expects (xorriso -report_system_area's grub2-mbr / isohybrid), given the first BIOS image's LBA. */
function describeSystemArea(area: Buffer, mbrBootCode: boolean, biosLba: number | undefined): IsoSystemAreaInfo {
  let mbrPatch: IsoSystemAreaInfo["mbrPatch"] = "none";
  if (mbrBootCode && biosLba !== undefined) {
    if (decodeRecord(GRUB2_MBR_PATCH, area).kernelSector === BigInt(biosLba * 4 + 4)) mbrPatch = "grub2";
    else if (decodeRecord(ISOHYBRID_MBR_PATCH, area).imageSector === biosLba * 4) mbrPatch = "isohybrid";
  }
  const gpt = decodeRecord(GPT_HEADER, area, DISK_SECTOR).signature === "EFI PART";
  return { mbrBootCode, mbrPatch, beyondMbr: area.subarray(DISK_SECTOR).some((b) => b !== 0), gpt };
}

/** Reads the structure of an ISO image, as untrusted input (BM4104 not ISO, BM4106 damaged, BM4107 beyond limits). */
export async function readIso(path: string): Promise<IsoInfo> {
  return ImageFile.with(path, isoErrors(path), async (img) => {
    const { list: descriptors, pvd, svd, catalogLba } = await readDescriptors(img);
    if (!pvd) throw new BootmediaError("BM4104", `${path} has no ISO 9660 primary volume descriptor`, { where: path });
    const primary = descriptors.find((d) => d.type === "primary")!;
    const volumeBytes = primary.volumeSpaceSize! * SECTOR;
    if (volumeBytes > img.size)
      throw img.damaged(
        `truncated: the volume holds ${volumeBytes} bytes (${primary.volumeSpaceSize} sectors), the file ${img.size}`,
      );
    const root = rootOf(img, pvd, "primary");
    const rootSelf = parseRecords(
      img,
      await img.read(root.extent * SECTOR, Math.min(SECTOR, root.length), "root folder"),
      "/",
    )[0];
    const hasRr = rootSelf?.su.toString("latin1", 0, 2) === "SP";
    const names: IsoInfo["names"] = hasRr ? "rockridge" : svd ? "joliet" : "iso9660";
    const files = await listTree(img, names === "joliet" ? rootOf(img, svd!, "Joliet") : root, names);
    const raw =
      catalogLba !== undefined ? readBootCatalog(img, await img.read(catalogLba * SECTOR, SECTOR, "boot catalog")) : [];
    const bootEntries = await describeBootEntries(img, raw, primary.lba, files);
    const area = await img.read(0, SYSTEM_AREA_SECTORS * SECTOR, "system area");
    const parts = readPartitions(img, area);
    const systemArea = describeSystemArea(area, parts.mbrBootCode, bootEntries.find((b) => b.platform === "bios")?.lba);
    return {
      descriptors,
      volumeId: primary.volumeId!,
      volumeSpaceSize: primary.volumeSpaceSize!,
      names,
      bootEntries,
      ...parts,
      systemArea,
      files,
    };
  });
}

/** One file of any size, its extents handed to `onChunk` in order, 4 MiB at a time; its size, or undefined when absent. */
export async function streamIsoFile(
  path: string,
  mediaPath: string,
  onChunk: (chunk: Buffer) => void,
): Promise<number | undefined> {
  const info = await readIso(path);
  const f = info.files.find((x) => x.path === mediaPath && x.type === "file");
  if (!f) return undefined;
  return ImageFile.with(path, isoErrors(path), async (img) => {
    for (const e of f.extents)
      for (let done = 0; done < e.length; ) {
        const n = Math.min(4 * 2 ** 20, e.length - done);
        onChunk(await img.read(e.lba * SECTOR + done, n, mediaPath));
        done += n;
      }
    return f.size;
  });
}

/** Returns the bytes of a (small) file of the image by media path. */
export async function readIsoFile(path: string, mediaPath: string): Promise<Buffer> {
  const info = await readIso(path);
  const f = info.files.find((x) => x.path === mediaPath && x.type === "file");
  if (!f) throw new BootmediaError("BM4105", `${mediaPath} is not a file in ${path}`, { where: mediaPath });
  if (f.size > MAX_READ_FILE_BYTES)
    throw beyondLimits(`${mediaPath} is ${f.size} bytes; inspect reads files up to ${MAX_READ_FILE_BYTES} bytes`, path);
  return ImageFile.with(path, isoErrors(path), async (img) => {
    const parts: Buffer[] = [];
    for (const e of f.extents) parts.push(await img.read(e.lba * SECTOR, e.length, mediaPath));
    return Buffer.concat(parts);
  });
}
