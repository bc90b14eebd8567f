/**
 * Reads an ISO 9660 image back for `bootmedia inspect`: volume descriptors, El Torito
 * entries, MBR/GPT partitions of the system area, and the file list in the richest name
 * view present (Rock Ridge, else Joliet, else ISO 9660). Tests check it against xorriso.
 */
import { open, type FileHandle } from "node:fs/promises";
import { BootmediaError } from "../../base/errors.ts";
import { BOOT_ENTRY, BOOT_RECORD, EL_TORITO_ID, PLATFORM, SECTION_HEADER, SECTION_HEADER_ENTRY, VALIDATION_ENTRY } from "./eltorito.ts";
import { decodeGuid, GPT_ENTRY, GPT_HEADER, MBR, MBR_PARTITION } from "./hybrid.ts";
import { decodeUcs2 } from "./names.ts";
import { DIRECTORY_RECORD, FILE_FLAG, SECTOR, STANDARD_ID, VD_TYPE, VOLUME_DESCRIPTOR } from "./records.ts";
import { decodeRecord } from "./struct.ts";
import type { IsoBootEntryInfo, IsoExtent, IsoFileInfo, IsoInfo, IsoPartitionInfo, IsoVolumeDescriptorInfo } from "./types.ts";
import "./codes.ts";

interface RawRecord {
  id: Buffer;
  extent: number;
  length: number;
  flags: number;
  su: Buffer;
}

async function readSectors(fh: FileHandle, lba: number, bytes: number): Promise<Buffer> {
  const buf = Buffer.alloc(bytes);
  await fh.read(buf, 0, bytes, lba * SECTOR);
  return buf;
}

function parseRecords(data: Buffer): RawRecord[] {
  const out: RawRecord[] = [];
  for (let at = 0; at < data.length;) {
    const len = data[at];
    if (len === 0) {
      at = (Math.floor(at / SECTOR) + 1) * SECTOR; // rest of the sector is padding (§6.8.1.1)
      continue;
    }
    const r = decodeRecord(DIRECTORY_RECORD, data, at);
    const idEnd = at + DIRECTORY_RECORD.size + r.identifierLength;
    const suStart = idEnd + (r.identifierLength % 2 === 0 ? 1 : 0);
    out.push({ id: data.subarray(at + DIRECTORY_RECORD.size, idEnd), extent: r.extent, length: r.dataLength, flags: r.flags, su: data.subarray(suStart, at + len) });
    at += len;
  }
  return out;
}

interface RockRidge {
  name?: string;
  mode?: number;
}

/** Parses SUSP entries, following CE continuations (SUSP §5.1). */
async function parseRockRidge(fh: FileHandle, su: Buffer): Promise<RockRidge> {
  const rr: RockRidge = {};
  const names: Buffer[] = [];
  let area: Buffer | null = su;
  for (let hops = 0; area && hops < 16; hops++) {
    const cur: Buffer = area;
    area = null;
    for (let at = 0; at + 4 <= cur.length;) {
      const sig = cur.toString("latin1", at, at + 2);
      const len = cur[at + 2];
      if (len < 4) break;
      if (sig === "NM") names.push(cur.subarray(at + 5, at + len));
      if (sig === "PX") rr.mode = cur.readUInt32LE(at + 4);
      if (sig === "CE") {
        const block = cur.readUInt32LE(at + 4), offset = cur.readUInt32LE(at + 12), length = cur.readUInt32LE(at + 20);
        area = (await readSectors(fh, block, SECTOR * 2)).subarray(offset, offset + length);
      }
      if (sig === "ST") break;
      at += len;
    }
  }
  if (names.length) rr.name = Buffer.concat(names).toString("utf8");
  return rr;
}

async function listTree(fh: FileHandle, root: RawRecord, view: IsoInfo["names"]): Promise<IsoFileInfo[]> {
  const out: IsoFileInfo[] = [];
  const walk = async (dir: RawRecord, prefix: string, depth: number) => {
    if (depth > 64) return;
    const records = parseRecords(await readSectors(fh, dir.extent, dir.length)).slice(2);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const extents: IsoExtent[] = [{ lba: r.extent, length: r.length }];
      // Multi-extent: records flagged 0x80 continue in the next record of the same name (§6.5.1).
      while (records[i].flags & FILE_FLAG.MULTI_EXTENT && i + 1 < records.length) {
        i++;
        extents.push({ lba: records[i].extent, length: records[i].length });
      }
      const rr = view === "rockridge" ? await parseRockRidge(fh, r.su) : {};
      const raw = view === "joliet" ? decodeUcs2(r.id) : r.id.toString("latin1");
      const name = rr.name ?? (view === "joliet" ? raw.replace(/;1$/, "") : raw);
      const path = prefix ? `${prefix}/${name}` : name;
      const isDir = (r.flags & FILE_FLAG.DIRECTORY) !== 0;
      out.push({ path, type: isDir ? "dir" : "file", size: isDir ? 0 : extents.reduce((n, e) => n + e.length, 0), mode: rr.mode, extents });
      if (isDir) await walk(r, path, depth + 1);
    }
  };
  await walk(root, "", 0);
  return out;
}

function readPartitions(area: Buffer): { partitions: IsoPartitionInfo[]; mbrBootCode: boolean } {
  const partitions: IsoPartitionInfo[] = [];
  const mbr = decodeRecord(MBR, area);
  if (mbr.signature !== 0xaa55) return { partitions, mbrBootCode: false };
  for (let i = 0; i < 4; i++) {
    const p = decodeRecord(MBR_PARTITION, mbr.partitions, i * MBR_PARTITION.size);
    if (p.type === 0 && p.sectors === 0) continue;
    partitions.push({ scheme: "mbr", index: i + 1, type: `0x${p.type.toString(16).padStart(2, "0")}`, bootable: p.status === 0x80, startSector: p.lbaFirst, sectors: p.sectors });
  }
  const gpt = decodeRecord(GPT_HEADER, area, 512);
  if (gpt.signature === "EFI PART") {
    const base = Number(gpt.entriesLba) * 512;
    for (let i = 0; i < gpt.entryCount && base + (i + 1) * gpt.entrySize <= area.length; i++) {
      const e = decodeRecord(GPT_ENTRY, area, base + i * gpt.entrySize);
      if (e.typeGuid.every((b) => b === 0)) continue;
      partitions.push({
        scheme: "gpt", index: i + 1, type: decodeGuid(e.typeGuid), startSector: Number(e.firstLba),
        sectors: Number(e.lastLba - e.firstLba) + 1, name: e.name.toString("utf16le").replace(/\0+$/, ""),
      });
    }
  }
  return { partitions, mbrBootCode: mbr.bootCode.some((b) => b !== 0) };
}

function readBootCatalog(cat: Buffer): IsoBootEntryInfo[] {
  const out: IsoBootEntryInfo[] = [];
  const v = decodeRecord(VALIDATION_ENTRY, cat);
  if (v.headerId !== 1 || v.key55 !== 0x55 || v.keyAA !== 0xaa) return out;
  const platformOf = (p: number) => (p === PLATFORM.BIOS ? "bios" : p === PLATFORM.EFI ? "efi" : p);
  const entry = (at: number, platform: number) => {
    const e = decodeRecord(BOOT_ENTRY, cat, at);
    out.push({ platform: platformOf(platform), bootable: e.indicator === 0x88, emulation: e.mediaType, loadSegment: e.loadSegment, loadSectors: e.sectorCount, lba: e.loadRba });
  };
  entry(32, v.platform);
  for (let at = 64; at + 32 <= cat.length;) {
    const h = decodeRecord(SECTION_HEADER_ENTRY, cat, at);
    if (h.indicator !== SECTION_HEADER.MORE && h.indicator !== SECTION_HEADER.FINAL) break;
    for (let i = 0; i < h.entries; i++) entry(at + 32 * (i + 1), h.platform);
    at += 32 * (h.entries + 1);
    if (h.indicator === SECTION_HEADER.FINAL) break;
  }
  return out;
}

function rootOf(vd: Buffer): RawRecord {
  return parseRecords(decodeRecord(VOLUME_DESCRIPTOR, vd).rootDirectoryRecord)[0];
}

/** Reads the structure of an ISO image. */
export async function readIso(path: string): Promise<IsoInfo> {
  const fh = await open(path, "r").catch((e) => { throw new BootmediaError("BM4104", `cannot open ${path}: ${(e as Error).message}`, { where: path }); });
  try {
    const descriptors: IsoVolumeDescriptorInfo[] = [];
    let pvd: Buffer | undefined, svd: Buffer | undefined, catalogLba: number | undefined;
    for (let lba = 16; lba < 16 + 64; lba++) {
      const vd = await readSectors(fh, lba, SECTOR);
      if (vd.toString("latin1", 1, 6) !== STANDARD_ID) break;
      const type = vd[0];
      if (type === VD_TYPE.PRIMARY || type === VD_TYPE.SUPPLEMENTARY) {
        const d = decodeRecord(VOLUME_DESCRIPTOR, vd);
        const escape = d.escapeSequences.toString("latin1").replace(/\0+$/, "");
        const joliet = type === VD_TYPE.SUPPLEMENTARY && /^%\/[@CE]/.test(escape);
        const text = (b: Buffer) => (joliet ? decodeUcs2(b) : b.toString("latin1")).replace(/[ \0]+$/, "");
        descriptors.push({ type: type === VD_TYPE.PRIMARY ? "primary" : "supplementary", lba, volumeId: text(d.volumeId), escape: escape || undefined, volumeSpaceSize: d.volumeSpaceSize, systemId: text(d.systemId), publisherId: text(d.publisherId), applicationId: text(d.applicationId), creationDate: d.creationDate.toString("latin1", 0, 16) });
        if (type === VD_TYPE.PRIMARY) pvd ??= vd;
        else if (joliet) svd ??= vd;
      } else if (type === VD_TYPE.BOOT) {
        const b = decodeRecord(BOOT_RECORD, vd);
        descriptors.push({ type: "boot", lba, bootSystemId: b.bootSystemId, catalogLba: b.bootSystemId === EL_TORITO_ID ? b.catalogLba : undefined });
        if (b.bootSystemId === EL_TORITO_ID) catalogLba = b.catalogLba;
      } else {
        descriptors.push({ type: type === VD_TYPE.TERMINATOR ? "terminator" : "other", lba });
        if (type === VD_TYPE.TERMINATOR) break;
      }
    }
    if (!pvd) throw new BootmediaError("BM4104", `${path} has no ISO 9660 primary volume descriptor`, { where: path });
    const root = rootOf(pvd);
    const rootSelf = parseRecords(await readSectors(fh, root.extent, SECTOR))[0];
    const hasRr = rootSelf?.su.toString("latin1", 0, 2) === "SP";
    const names: IsoInfo["names"] = hasRr ? "rockridge" : svd ? "joliet" : "iso9660";
    const files = await listTree(fh, names === "joliet" ? rootOf(svd!) : root, names);
    const primary = descriptors.find((d) => d.type === "primary")!;
    return {
      descriptors, volumeId: primary.volumeId!, volumeSpaceSize: primary.volumeSpaceSize!, names,
      bootEntries: catalogLba !== undefined ? readBootCatalog(await readSectors(fh, catalogLba, SECTOR)) : [],
      ...readPartitions(await readSectors(fh, 0, 16 * SECTOR)), files,
    };
  } finally {
    await fh.close();
  }
}

/** Returns the bytes of a (small) file of the image by media path. */
export async function readIsoFile(path: string, mediaPath: string): Promise<Buffer> {
  const info = await readIso(path);
  const f = info.files.find((x) => x.path === mediaPath && x.type === "file");
  if (!f) throw new BootmediaError("BM4105", `${mediaPath} is not a file in ${path}`, { where: mediaPath });
  const fh = await open(path, "r");
  try {
    const parts: Buffer[] = [];
    for (const e of f.extents) {
      const buf = Buffer.alloc(e.length);
      await fh.read(buf, 0, e.length, e.lba * SECTOR);
      parts.push(buf);
    }
    return Buffer.concat(parts);
  } finally {
    await fh.close();
  }
}
