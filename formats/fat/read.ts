/**
 * readFat: a small FAT12/16/32 reader for `bootmedia inspect` and for tests that compare
 * with independent tools — type, label, every file with its long name and size.
 */
import { open, type FileHandle } from "node:fs/promises";
import { BootmediaError } from "../../base/errors.ts";
import { decodeRecord } from "../record.ts";
import { checksumShortName } from "./names.ts";
import {
  ATTR, BOOT_SIGNATURE, BPB, BPB16, BPB32, DIR_ENTRY, DIR_ENTRY_BYTES, DIR_NAME_FREE, FAT_MARKS, LFN_ENTRY,
  LFN_LAST_ENTRY_FLAG, SECTOR_BYTES, determineFatType, type FatType,
} from "./structures.ts";

export interface FatFileInfo { path: string; shortName: string; size: number; firstCluster: number }
export interface FatInfo {
  type: FatType;
  label?: string;
  volumeId: number;
  clusterBytes: number;
  clusterCount: number;
  totalBytes: number;
  files: FatFileInfo[];
  dirs: string[];
}

/** Largest file readFatFile returns: it is for config files, not payloads. */
export const MAX_READ_FILE_BYTES = 64 * 2 ** 20;

interface Volume {
  fh: FileHandle;
  offset: number;
  type: FatType;
  spc: number;
  firstDataSector: number;
  rootSector: number;
  rootEntries: number;
  rootCluster: number;
  fat: Buffer;
  clusterCount: number;
}

async function openVolume(image: string, offset: number): Promise<{ vol: Volume; info: Omit<FatInfo, "files" | "dirs"> }> {
  const fh = await open(image, "r").catch((cause: Error) => {
    throw new BootmediaError("BM4204", `Cannot open ${image}: ${cause.message}`, { where: image, cause });
  });
  try {
    const boot = Buffer.alloc(SECTOR_BYTES);
    await fh.read(boot, 0, SECTOR_BYTES, offset);
    const bpb = decodeRecord(BPB, boot, 0);
    const bad = bpb.Signature_word !== BOOT_SIGNATURE || bpb.BPB_BytsPerSec !== SECTOR_BYTES || !bpb.BPB_SecPerClus || !bpb.BPB_NumFATs;
    if (bad) throw new BootmediaError("BM4204", `${image} at offset ${offset} holds no FAT boot sector.`, { where: image });
    const b32 = decodeRecord(BPB32, boot, 0);
    const fatSectors = bpb.BPB_FATSz16 || b32.BPB_FATSz32;
    const totalSectors = bpb.BPB_TotSec16 || bpb.BPB_TotSec32;
    const rootDirSectors = Math.ceil((bpb.BPB_RootEntCnt * DIR_ENTRY_BYTES) / SECTOR_BYTES);
    const firstDataSector = bpb.BPB_RsvdSecCnt + bpb.BPB_NumFATs * fatSectors + rootDirSectors;
    const clusterCount = Math.floor((totalSectors - firstDataSector) / bpb.BPB_SecPerClus);
    const type = determineFatType(clusterCount); // spec §3.5: the count alone decides
    const ext = type === 32 ? b32 : decodeRecord(BPB16, boot, 0);
    const fat = Buffer.alloc(fatSectors * SECTOR_BYTES);
    await fh.read(fat, 0, fat.length, offset + bpb.BPB_RsvdSecCnt * SECTOR_BYTES);
    const vol: Volume = {
      fh, offset, type, spc: bpb.BPB_SecPerClus, firstDataSector, rootSector: bpb.BPB_RsvdSecCnt + bpb.BPB_NumFATs * fatSectors,
      rootEntries: bpb.BPB_RootEntCnt, rootCluster: type === 32 ? b32.BPB_RootClus : 0, fat, clusterCount,
    };
    const label = ext.BS_BootSig === 0x29 ? ext.BS_VolLab.trimEnd() : undefined;
    return {
      vol,
      info: { type, label: label && label !== "NO NAME" ? label : undefined, volumeId: ext.BS_VolID, clusterBytes: vol.spc * SECTOR_BYTES, clusterCount, totalBytes: totalSectors * SECTOR_BYTES },
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

function nextCluster(vol: Volume, c: number): number {
  if (vol.type === 32) return vol.fat.readUInt32LE(c * 4) & 0x0fffffff;
  if (vol.type === 16) return vol.fat.readUInt16LE(c * 2);
  const v = vol.fat.readUInt16LE(Math.floor(c * 1.5));
  return c % 2 === 0 ? v & 0xfff : v >> 4;
}

/** Cluster chain from `first`; stops at end-of-chain, free or out-of-range entries, or a loop. */
function followChain(vol: Volume, first: number): number[] {
  const out: number[] = [];
  const eocMin = FAT_MARKS[vol.type].eoc - 7; // spec §4: any value >= 0x?FF8 ends a chain
  for (let c = first; c >= 2 && c < vol.clusterCount + 2 && out.length <= vol.clusterCount; c = nextCluster(vol, c)) {
    out.push(c);
    const n = nextCluster(vol, c);
    if (n >= eocMin) break;
  }
  return out;
}

async function readClusters(vol: Volume, first: number, maxBytes = Infinity): Promise<Buffer> {
  const clusterBytes = vol.spc * SECTOR_BYTES;
  const chain = followChain(vol, first);
  const buf = Buffer.alloc(Math.min(chain.length * clusterBytes, maxBytes));
  for (let i = 0; i * clusterBytes < buf.length; i++) {
    const pos = vol.offset + (vol.firstDataSector + (chain[i] - 2) * vol.spc) * SECTOR_BYTES;
    await vol.fh.read(buf, i * clusterBytes, Math.min(clusterBytes, buf.length - i * clusterBytes), pos);
  }
  return buf;
}

interface RawEntry { name: string; shortName: string; attr: number; firstCluster: number; size: number }

/** Parses a directory's entries, joining LFN runs whose checksum matches their short entry (spec §7). */
function parseDirectory(buf: Buffer): RawEntry[] {
  const out: RawEntry[] = [];
  let lfn: string[] = [];
  let lfnSum = -1;
  for (let at = 0; at + DIR_ENTRY_BYTES <= buf.length; at += DIR_ENTRY_BYTES) {
    const first = buf[at];
    if (first === DIR_NAME_FREE.END) break;
    if (first === DIR_NAME_FREE.DELETED) { lfn = []; continue; }
    const e = decodeRecord(DIR_ENTRY, buf, at);
    if ((e.DIR_Attr & 0x3f) === ATTR.LONG_NAME) {
      const l = decodeRecord(LFN_ENTRY, buf, at);
      if (l.LDIR_Ord & LFN_LAST_ENTRY_FLAG) lfn = [];
      const units = Buffer.concat([l.LDIR_Name1, l.LDIR_Name2, l.LDIR_Name3]);
      let s = "";
      for (let i = 0; i < 26; i += 2) { const u = units.readUInt16LE(i); if (u === 0 || u === 0xffff) break; s += String.fromCharCode(u); }
      lfn.unshift(s);
      lfnSum = l.LDIR_Chksum;
      continue;
    }
    const raw = e.DIR_Name.toString("latin1");
    const shortName = (raw.slice(0, 8).trimEnd() + (raw.slice(8).trim() ? "." + raw.slice(8).trimEnd() : ""));
    const name = lfn.length && lfnSum === checksumShortName(e.DIR_Name) ? lfn.join("") : shortName;
    out.push({ name, shortName, attr: e.DIR_Attr, firstCluster: (e.DIR_FstClusHI << 16) | e.DIR_FstClusLO, size: e.DIR_FileSize });
    lfn = [];
  }
  return out;
}

async function readRootDirectory(vol: Volume): Promise<RawEntry[]> {
  if (vol.type === 32) return parseDirectory(await readClusters(vol, vol.rootCluster));
  const buf = Buffer.alloc(vol.rootEntries * DIR_ENTRY_BYTES);
  await vol.fh.read(buf, 0, buf.length, vol.offset + vol.rootSector * SECTOR_BYTES);
  return parseDirectory(buf);
}

async function walk(vol: Volume, entries: RawEntry[], prefix: string, info: FatInfo, depth: number): Promise<void> {
  for (const e of entries) {
    if (e.attr & ATTR.VOLUME_ID) {
      if (!prefix) info.label = e.shortName.replace(".", "").trimEnd() || info.label;
      continue;
    }
    if (e.name === "." || e.name === "..") continue;
    const path = prefix + e.name;
    if (e.attr & ATTR.DIRECTORY) {
      info.dirs.push(path);
      if (depth < 64 && e.firstCluster >= 2) await walk(vol, parseDirectory(await readClusters(vol, e.firstCluster)), path + "/", info, depth + 1);
    } else {
      info.files.push({ path, shortName: e.shortName, size: e.size, firstCluster: e.firstCluster });
    }
  }
}

/** Type, label, volume id and every file (long names, sizes) of the FAT volume at `offset`. */
export async function readFat(image: string, offset = 0): Promise<FatInfo> {
  const { vol, info: head } = await openVolume(image, offset);
  try {
    const info: FatInfo = { ...head, files: [], dirs: [] };
    await walk(vol, await readRootDirectory(vol), "", info, 0);
    return info;
  } finally {
    await vol.fh.close();
  }
}

/** The bytes of one (small) file, found by path without regard to case. */
export async function readFatFile(image: string, path: string, offset = 0): Promise<Buffer> {
  const info = await readFat(image, offset);
  const want = path.replace(/^\/+/, "").toUpperCase();
  const f = info.files.find((x) => x.path.toUpperCase() === want);
  if (!f) throw new BootmediaError("BM4206", `${path} is not in the FAT image ${image}.`, { where: path });
  if (f.size > MAX_READ_FILE_BYTES) throw new Error(`${path} is ${f.size} bytes; readFatFile reads files up to ${MAX_READ_FILE_BYTES} bytes`);
  const { vol } = await openVolume(image, offset);
  try {
    return f.size ? await readClusters(vol, f.firstCluster, f.size) : Buffer.alloc(0);
  } finally {
    await vol.fh.close();
  }
}
