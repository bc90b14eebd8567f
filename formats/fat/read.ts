/**
 * readFat: a small FAT12/16/32 reader for `bootmedia inspect` and for tests that compare
 * with independent tools — type, label, every file with its long name and size. Media are
 * untrusted input: every read is bounded by the image, cluster chains and folders that
 * leave the volume, loop or pass FAT's 65,536-entry folder limit are damage (BM4208), and
 * entries, FAT size and depth are capped (BM4209).
 */
import { BootmediaError } from "../../base/errors.ts";
import { ImageFile, type ImageErrors } from "../image-file.ts";
import { decodeRecord } from "../record.ts";
import { checksumShortName } from "./names.ts";
import {
  ATTR,
  BOOT_SIGNATURE,
  BPB,
  BPB16,
  BPB32,
  DIR_ENTRY,
  DIR_ENTRY_BYTES,
  DIR_NAME_FREE,
  FAT_MARKS,
  LFN_ENTRY,
  LFN_LAST_ENTRY_FLAG,
  MAX_DIR_ENTRIES,
  SECTOR_BYTES,
  determineFatType,
  type FatType,
} from "./structures.ts";
import "./codes.ts";

export interface FatFileInfo {
  path: string;
  shortName: string;
  size: number;
  firstCluster: number;
}
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
const MAX_READ_FILE_BYTES = 64 * 2 ** 20;
/** Limits of `inspect`: a real USB stick stays far below them. */
const FAT_READ_LIMITS = { entries: 1_000_000, fatBytes: 128 * 2 ** 20, depth: 128 } as const;
/** Largest folder (Microsoft FAT spec §6: at most 65,536 32-byte entries). */
const MAX_DIR_BYTES = MAX_DIR_ENTRIES * DIR_ENTRY_BYTES;
/** DIR_NTRes bits: base name / extension stored upper case but shown lower case (Windows NT). */
const NT_LOWER_BASE = 0x08;
const NT_LOWER_EXT = 0x10;

interface Volume {
  img: ImageFile;
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

function fatErrors(image: string): ImageErrors {
  return {
    cannotOpen: (cause) =>
      new BootmediaError("BM4204", `Cannot open ${image}: ${cause.message}`, { where: image, cause }),
    damaged: (message) => new BootmediaError("BM4208", `FAT file system damaged: ${message}`, { where: image }),
  };
}

function beyondLimits(image: string, message: string): BootmediaError {
  return new BootmediaError("BM4209", `FAT file system beyond inspect's limits: ${message}`, { where: image });
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/**
 * True when `sector` is a FAT boot sector (spec §3.1): a jump, a sane BPB and the signature.
 * A disk whose first sector passes holds a bare file system, not a partition table.
 */
export function isFatBootSector(sector: Buffer): boolean {
  if (sector.length < SECTOR_BYTES) return false;
  const bpb = decodeRecord(BPB, sector);
  const jump = bpb.BS_jmpBoot;
  const fatSectors = bpb.BPB_FATSz16 || decodeRecord(BPB32, sector).BPB_FATSz32;
  return (
    bpb.Signature_word === BOOT_SIGNATURE &&
    ((jump[0] === 0xeb && jump[2] === 0x90) || jump[0] === 0xe9) &&
    [512, 1024, 2048, 4096].includes(bpb.BPB_BytsPerSec) &&
    isPowerOfTwo(bpb.BPB_SecPerClus) &&
    bpb.BPB_SecPerClus <= 128 &&
    bpb.BPB_RsvdSecCnt > 0 &&
    bpb.BPB_NumFATs > 0 &&
    (bpb.BPB_Media === 0xf0 || bpb.BPB_Media >= 0xf8) &&
    fatSectors > 0 &&
    (bpb.BPB_TotSec16 || bpb.BPB_TotSec32) > 0
  );
}

async function openVolume(
  img: ImageFile,
  offset: number,
): Promise<{ vol: Volume; info: Omit<FatInfo, "files" | "dirs"> }> {
  if (!img.holds(offset, SECTOR_BYTES))
    throw img.damaged(`no boot sector at byte ${offset}: the image ends at ${img.size}`);
  const boot = await img.read(offset, SECTOR_BYTES, "boot sector");
  const bpb = decodeRecord(BPB, boot);
  const bad =
    bpb.Signature_word !== BOOT_SIGNATURE ||
    bpb.BPB_BytsPerSec !== SECTOR_BYTES ||
    !isPowerOfTwo(bpb.BPB_SecPerClus) ||
    !bpb.BPB_NumFATs;
  if (bad)
    throw new BootmediaError("BM4204", `${img.path} at offset ${offset} holds no FAT boot sector.`, {
      where: img.path,
    });
  const b32 = decodeRecord(BPB32, boot);
  const fatSectors = bpb.BPB_FATSz16 || b32.BPB_FATSz32;
  const totalSectors = bpb.BPB_TotSec16 || bpb.BPB_TotSec32;
  const rootDirSectors = Math.ceil((bpb.BPB_RootEntCnt * DIR_ENTRY_BYTES) / SECTOR_BYTES);
  const rootSector = bpb.BPB_RsvdSecCnt + bpb.BPB_NumFATs * fatSectors;
  const firstDataSector = rootSector + rootDirSectors;
  if (!bpb.BPB_RsvdSecCnt || !fatSectors || totalSectors <= firstDataSector) {
    throw img.damaged(
      `boot sector geometry does not fit: ${totalSectors} sectors, data from sector ${firstDataSector}`,
    );
  }
  if (!img.holds(offset, totalSectors * SECTOR_BYTES)) {
    throw img.damaged(
      `truncated: the file system holds ${totalSectors * SECTOR_BYTES} bytes from byte ${offset}, the image ends at ${img.size}`,
    );
  }
  const clusterCount = Math.floor((totalSectors - firstDataSector) / bpb.BPB_SecPerClus);
  const type = determineFatType(clusterCount); // spec §3.5: the count alone decides
  if ((type === 32) !== (bpb.BPB_RootEntCnt === 0))
    throw img.damaged(`a FAT${type} volume with ${bpb.BPB_RootEntCnt} root entries (spec §3.1)`);
  const ext = type === 32 ? b32 : decodeRecord(BPB16, boot);
  // Only the entries of real clusters are read (FAT12 packs 1.5 bytes per entry, spec §4).
  const fatBytes = Math.min(
    fatSectors * SECTOR_BYTES,
    Math.ceil(((clusterCount + 2) * (type === 12 ? 3 : type === 16 ? 4 : 8)) / 2),
  );
  if (fatBytes > FAT_READ_LIMITS.fatBytes)
    throw beyondLimits(
      img.path,
      `a FAT of ${fatBytes} bytes; inspect reads FATs up to ${FAT_READ_LIMITS.fatBytes} bytes`,
    );
  const fat = await img.read(offset + bpb.BPB_RsvdSecCnt * SECTOR_BYTES, fatBytes, "FAT");
  const vol: Volume = {
    img,
    offset,
    type,
    spc: bpb.BPB_SecPerClus,
    firstDataSector,
    rootSector,
    rootEntries: bpb.BPB_RootEntCnt,
    rootCluster: type === 32 ? b32.BPB_RootClus : 0,
    fat,
    clusterCount,
  };
  const label = ext.BS_BootSig === 0x29 ? ext.BS_VolLab.trimEnd() : undefined;
  return {
    vol,
    info: {
      type,
      label: label && label !== "NO NAME" ? label : undefined,
      volumeId: ext.BS_VolID,
      clusterBytes: vol.spc * SECTOR_BYTES,
      clusterCount,
      totalBytes: totalSectors * SECTOR_BYTES,
    },
  };
}

function nextCluster(vol: Volume, c: number): number {
  if (vol.type === 32) return vol.fat.readUInt32LE(c * 4) & 0x0fffffff;
  if (vol.type === 16) return vol.fat.readUInt16LE(c * 2);
  const v = vol.fat.readUInt16LE(Math.floor(c * 1.5));
  return c % 2 === 0 ? v & 0xfff : v >> 4;
}

const isDataCluster = (vol: Volume, c: number) => c >= 2 && c < vol.clusterCount + 2;

/**
 * The cluster chain from `first` up to end-of-chain, at most `maxClusters` long; a chain
 * that leaves the volume, reaches a free or bad entry, or runs longer (a loop) is damage.
 */
function followChain(vol: Volume, first: number, maxClusters: number, what: string): number[] {
  const out: number[] = [];
  const eocMin = FAT_MARKS[vol.type].eoc - 7; // spec §4: any value >= 0x?FF8 ends a chain
  for (let c = first; ; ) {
    if (!isDataCluster(vol, c))
      throw vol.img.damaged(
        `${what}: its cluster chain reaches cluster ${c}, outside the volume's ${vol.clusterCount} clusters`,
      );
    out.push(c);
    const n = nextCluster(vol, c);
    if (n >= eocMin) return out;
    if (out.length >= maxClusters)
      throw vol.img.damaged(
        `${what}: its cluster chain runs past ${maxClusters} clusters (a loop, or longer than its size)`,
      );
    c = n;
  }
}

/** Bytes read at most per call when clusters are read (runs of consecutive clusters together). */
const READ_CHUNK = 4 * 2 ** 20;

/**
 * The first `bytes` of the chain handed to `onChunk` in order: runs of consecutive clusters
 * read together, at most READ_CHUNK at a time, so memory stays flat for a file of gigabytes.
 */
async function streamClusters(
  vol: Volume,
  chain: number[],
  bytes: number,
  what: string,
  onChunk: (chunk: Buffer) => void,
): Promise<void> {
  const clusterBytes = vol.spc * SECTOR_BYTES;
  const at = (c: number) => vol.offset + (vol.firstDataSector + (c - 2) * vol.spc) * SECTOR_BYTES;
  let done = 0;
  for (let i = 0; i < chain.length && done < bytes; ) {
    let run = 1;
    while (i + run < chain.length && chain[i + run] === chain[i]! + run && (run + 1) * clusterBytes <= READ_CHUNK)
      run++;
    const n = Math.min(run * clusterBytes, bytes - done);
    onChunk(await vol.img.read(at(chain[i]!), n, what));
    done += n;
    i += run;
  }
}

async function readClusters(vol: Volume, chain: number[], bytes: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  await streamClusters(vol, chain, bytes, what, (chunk) => parts.push(chunk));
  return Buffer.concat(parts, bytes);
}

/** A folder's data: its chain may not pass FAT's 65,536-entry limit. */
async function readDirClusters(vol: Volume, first: number, what: string): Promise<Buffer> {
  const clusterBytes = vol.spc * SECTOR_BYTES;
  const chain = followChain(vol, first, Math.ceil(MAX_DIR_BYTES / clusterBytes), what);
  return readClusters(vol, chain, chain.length * clusterBytes, what);
}

interface RawEntry {
  name: string;
  shortName: string;
  attr: number;
  firstCluster: number;
  size: number;
}

/** Parses a directory's entries, joining LFN runs whose checksum matches their short entry (spec §7). */
function parseDirectory(buf: Buffer): RawEntry[] {
  const out: RawEntry[] = [];
  let lfn: string[] = [];
  let lfnSum = -1;
  for (let at = 0; at + DIR_ENTRY_BYTES <= buf.length; at += DIR_ENTRY_BYTES) {
    const e = decodeRecord(DIR_ENTRY, buf, at);
    const first = e.DIR_Name[0];
    if (first === DIR_NAME_FREE.END) break;
    if (first === DIR_NAME_FREE.DELETED) {
      lfn = [];
      continue;
    }
    if ((e.DIR_Attr & 0x3f) === ATTR.LONG_NAME) {
      const l = decodeRecord(LFN_ENTRY, buf, at);
      if (l.LDIR_Ord & LFN_LAST_ENTRY_FLAG) lfn = [];
      const units = Buffer.concat([l.LDIR_Name1, l.LDIR_Name2, l.LDIR_Name3]);
      let s = "";
      for (let i = 0; i + 1 < units.length; i += 2) {
        const u = units.readUInt16LE(i);
        if (u === 0 || u === 0xffff) break;
        s += String.fromCharCode(u);
      }
      lfn.unshift(s);
      lfnSum = l.LDIR_Chksum;
      continue;
    }
    const raw = e.DIR_Name.toString("latin1");
    const base = raw.slice(0, 8).trimEnd(),
      ext = raw.slice(8).trimEnd();
    const shortName = base + (ext ? "." + ext : "");
    // Windows NT (and mtools) keep an all-lowercase 8.3 name without LFN entries, flagged in DIR_NTRes.
    const shown =
      (e.DIR_NTRes & NT_LOWER_BASE ? base.toLowerCase() : base) +
      (ext ? "." + (e.DIR_NTRes & NT_LOWER_EXT ? ext.toLowerCase() : ext) : "");
    const name = lfn.length && lfnSum === checksumShortName(e.DIR_Name) ? lfn.join("") : shown;
    out.push({
      name,
      shortName,
      attr: e.DIR_Attr,
      firstCluster: (e.DIR_FstClusHI << 16) | e.DIR_FstClusLO,
      size: e.DIR_FileSize,
    });
    lfn = [];
  }
  return out;
}

async function readRootDirectory(vol: Volume): Promise<RawEntry[]> {
  if (vol.type === 32) return parseDirectory(await readDirClusters(vol, vol.rootCluster, "root folder"));
  return parseDirectory(
    await vol.img.read(vol.offset + vol.rootSector * SECTOR_BYTES, vol.rootEntries * DIR_ENTRY_BYTES, "root folder"),
  );
}

interface Walk {
  vol: Volume;
  info: FatInfo;
  count: number;
  seen: Map<number, string>;
}

async function walk(w: Walk, entries: RawEntry[], prefix: string, depth: number): Promise<void> {
  const { vol, info } = w;
  if (depth > FAT_READ_LIMITS.depth)
    throw beyondLimits(vol.img.path, `${prefix}: folders nested more than ${FAT_READ_LIMITS.depth} deep`);
  for (const e of entries) {
    if (e.attr & ATTR.VOLUME_ID) {
      if (!prefix) info.label = e.shortName.replace(".", "").trimEnd() || info.label;
      continue;
    }
    if (e.name === "." || e.name === "..") continue;
    if (++w.count > FAT_READ_LIMITS.entries)
      throw beyondLimits(vol.img.path, `more than ${FAT_READ_LIMITS.entries} entries`);
    const path = prefix + e.name;
    if (e.attr & ATTR.DIRECTORY) {
      info.dirs.push(path);
      if (!isDataCluster(vol, e.firstCluster))
        throw vol.img.damaged(`folder ${path} starts at cluster ${e.firstCluster}, outside the volume`);
      const before = w.seen.get(e.firstCluster);
      if (before !== undefined)
        throw vol.img.damaged(
          `folder ${path} points at the clusters of folder ${before} (cluster ${e.firstCluster}): a directory loop`,
        );
      w.seen.set(e.firstCluster, path);
      await walk(
        w,
        parseDirectory(await readDirClusters(vol, e.firstCluster, `folder ${path}`)),
        path + "/",
        depth + 1,
      );
    } else {
      if (e.size > 0 && !isDataCluster(vol, e.firstCluster))
        throw vol.img.damaged(`${path} (${e.size} bytes) starts at cluster ${e.firstCluster}, outside the volume`);
      if (e.size > vol.clusterCount * vol.spc * SECTOR_BYTES)
        throw vol.img.damaged(`${path} claims ${e.size} bytes, more than the volume holds`);
      info.files.push({ path, shortName: e.shortName, size: e.size, firstCluster: e.firstCluster });
    }
  }
}

async function listVolume(img: ImageFile, offset: number): Promise<{ vol: Volume; info: FatInfo }> {
  const { vol, info: head } = await openVolume(img, offset);
  const info: FatInfo = { ...head, files: [], dirs: [] };
  const seen = new Map<number, string>(vol.type === 32 ? [[vol.rootCluster, "/"]] : []);
  await walk({ vol, info, count: 0, seen }, await readRootDirectory(vol), "", 0);
  return { vol, info };
}

/** Type, label, volume id and every file (long names, sizes) of the FAT volume at `offset`. */
export async function readFat(image: string, offset = 0): Promise<FatInfo> {
  return ImageFile.with(image, fatErrors(image), async (img) => (await listVolume(img, offset)).info);
}

/** A file of the volume by path without regard to case (undefined when absent), and how to follow its chain. */
async function findFile(img: ImageFile, offset: number, path: string) {
  const { vol, info } = await listVolume(img, offset);
  const want = path.replace(/^\/+/, "").toUpperCase();
  const f = info.files.find((x) => x.path.toUpperCase() === want);
  if (!f) return undefined;
  const chain = (): number[] => {
    if (!f.size) return [];
    const clusters = Math.ceil(f.size / (vol.spc * SECTOR_BYTES));
    const c = followChain(vol, f.firstCluster, clusters, path);
    if (c.length < clusters) throw img.damaged(`${path}: ${f.size} bytes in a chain of ${c.length} clusters`);
    return c;
  };
  return { vol, size: f.size, chain };
}

/**
 * One file of any size, found by path without regard to case, handed to `onChunk` in order:
 * memory stays flat for a file of gigabytes. Its size, or undefined when the volume has no such file.
 */
export async function streamFatFile(
  image: string,
  path: string,
  offset: number,
  onChunk: (chunk: Buffer) => void,
): Promise<number | undefined> {
  return ImageFile.with(image, fatErrors(image), async (img) => {
    const f = await findFile(img, offset, path);
    if (f) await streamClusters(f.vol, f.chain(), f.size, path, onChunk);
    return f?.size;
  });
}

/** The bytes of one (small) file, found by path without regard to case. */
export async function readFatFile(image: string, path: string, offset = 0): Promise<Buffer> {
  return ImageFile.with(image, fatErrors(image), async (img) => {
    const f = await findFile(img, offset, path);
    if (!f) throw new BootmediaError("BM4206", `${path} is not in the FAT image ${image}.`, { where: path });
    if (f.size > MAX_READ_FILE_BYTES)
      throw beyondLimits(image, `${path} is ${f.size} bytes; inspect reads files up to ${MAX_READ_FILE_BYTES} bytes`);
    return f.size ? readClusters(f.vol, f.chain(), f.size, path) : Buffer.alloc(0);
  });
}
