/**
 * Damage for reader tests and the inspect fuzzer: finds records in real ISO and FAT images
 * through the same field tables the readers use, and breaks them the way hostile or
 * corrupted media do (loops, huge extents, truncation). Works on whole images in memory.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { decodeRecord, encodeRecord } from "../record.ts";
import { DIRECTORY_RECORD, FILE_FLAG, SECTOR, SYSTEM_AREA_SECTORS, VOLUME_DESCRIPTOR } from "../iso9660/records.ts";
import { ATTR, BPB, BPB32, DIR_ENTRY, DIR_ENTRY_BYTES, SECTOR_BYTES } from "../fat/structures.ts";

/** Byte position of the primary volume descriptor's root directory record (ECMA-119 §8.4.18). */
export function isoRootRecordPos(): number {
  return SYSTEM_AREA_SECTORS * SECTOR + VOLUME_DESCRIPTOR.fields.rootDirectoryRecord.offset;
}

/** Directory records of the root folder as { pos, extent, dataLength, flags, id }. */
export function isoRootRecords(
  image: Buffer,
): Array<{ pos: number; extent: number; dataLength: number; flags: number; id: string }> {
  const root = decodeRecord(DIRECTORY_RECORD, image, isoRootRecordPos());
  const out = [];
  for (let at = root.extent * SECTOR; at < root.extent * SECTOR + root.dataLength; ) {
    const len = image[at];
    if (len === 0) {
      at = (Math.floor(at / SECTOR) + 1) * SECTOR;
      continue;
    }
    const r = decodeRecord(DIRECTORY_RECORD, image, at);
    out.push({
      pos: at,
      extent: r.extent,
      dataLength: r.dataLength,
      flags: r.flags,
      id: image.toString("latin1", at + DIRECTORY_RECORD.size, at + DIRECTORY_RECORD.size + r.identifierLength),
    });
    at += len;
  }
  return out;
}

/** The first sub-folder record of the root (after "." and ".."). */
export function isoFirstSubdir(image: Buffer): { pos: number; extent: number } {
  const r = isoRootRecords(image)
    .slice(2)
    .find((x) => x.flags & FILE_FLAG.DIRECTORY);
  if (!r) throw new Error("the image has no sub-folder in its root");
  return r;
}

/** Rewrites both-byte-order fields of the directory record at `pos`. */
export function setIsoRecord(
  image: Buffer,
  pos: number,
  values: { extent?: number; dataLength?: number; length?: number },
): void {
  encodeRecord(DIRECTORY_RECORD, values, image, pos);
}

/** Makes the first sub-folder of the root point back at the root: a directory loop. */
export function isoLoopToRoot(image: Buffer): void {
  const root = decodeRecord(DIRECTORY_RECORD, image, isoRootRecordPos());
  const sub = isoFirstSubdir(image);
  setIsoRecord(image, sub.pos, { extent: root.extent, dataLength: root.dataLength });
}

interface FatGeometry {
  rootPos: number;
  clusterBytes: number;
  dataPos: number;
  rootCluster: number;
  fat32: boolean;
  fatPos: number;
  fatType: 12 | 16 | 32;
}

function fatGeometry(image: Buffer, offset: number): FatGeometry {
  const bpb = decodeRecord(BPB, image, offset);
  const b32 = decodeRecord(BPB32, image, offset);
  const fat32 = bpb.BPB_FATSz16 === 0;
  const fatSectors = bpb.BPB_FATSz16 || b32.BPB_FATSz32;
  const rootSector = bpb.BPB_RsvdSecCnt + bpb.BPB_NumFATs * fatSectors;
  const dataSector = rootSector + Math.ceil((bpb.BPB_RootEntCnt * DIR_ENTRY_BYTES) / SECTOR_BYTES);
  const clusterBytes = bpb.BPB_SecPerClus * SECTOR_BYTES;
  const dataPos = offset + dataSector * SECTOR_BYTES;
  const rootPos = fat32 ? dataPos + (b32.BPB_RootClus - 2) * clusterBytes : offset + rootSector * SECTOR_BYTES;
  const totalSectors = bpb.BPB_TotSec16 || bpb.BPB_TotSec32;
  const clusters = Math.floor((totalSectors - dataSector) / bpb.BPB_SecPerClus);
  const fatType = clusters <= 4084 ? 12 : clusters <= 65524 ? 16 : 32; // Microsoft FAT spec §3.5
  return {
    rootPos,
    clusterBytes,
    dataPos,
    rootCluster: fat32 ? b32.BPB_RootClus : 0,
    fat32,
    fatPos: offset + bpb.BPB_RsvdSecCnt * SECTOR_BYTES,
    fatType,
  };
}

/** The first sub-folder entry of the root folder (its first cluster only). */
export function fatFirstSubdir(image: Buffer, offset = 0): { pos: number; cluster: number } {
  const g = fatGeometry(image, offset);
  for (let at = g.rootPos; at < g.rootPos + g.clusterBytes; at += DIR_ENTRY_BYTES) {
    const e = decodeRecord(DIR_ENTRY, image, at);
    if (e.DIR_Name[0] === 0) break;
    if ((e.DIR_Attr & 0x3f) === ATTR.LONG_NAME || e.DIR_Name[0] === 0xe5 || e.DIR_Name[0] === 0x2e) continue;
    if (e.DIR_Attr & ATTR.DIRECTORY) return { pos: at, cluster: (e.DIR_FstClusHI << 16) | e.DIR_FstClusLO };
  }
  throw new Error("the image has no sub-folder in its root");
}

/** Sets the first cluster of the directory entry at `pos`. */
export function setFatCluster(image: Buffer, pos: number, cluster: number): void {
  encodeRecord(DIR_ENTRY, { DIR_FstClusHI: cluster >>> 16, DIR_FstClusLO: cluster & 0xffff }, image, pos);
}

/** Renames the "." entry of the root's first sub-folder: a folder listing itself, a directory loop. */
export function fatSelfLoop(image: Buffer, offset = 0): void {
  const sub = fatFirstSubdir(image, offset);
  const g = fatGeometry(image, offset);
  encodeRecord(DIR_ENTRY, { DIR_Name: "LOOP       " }, image, g.dataPos + (sub.cluster - 2) * g.clusterBytes);
}

/** Sets FAT entry `cluster` of the first FAT to `value` (12-bit pairs, 16 or 32 bits: Microsoft FAT spec §4). */
export function setFatEntry(image: Buffer, offset: number, cluster: number, value: number): void {
  const g = fatGeometry(image, offset);
  if (g.fatType === 32) return void image.writeUInt32LE(value & 0x0fffffff, g.fatPos + cluster * 4);
  if (g.fatType === 16) return void image.writeUInt16LE(value & 0xffff, g.fatPos + cluster * 2);
  const at = g.fatPos + Math.floor(cluster * 1.5);
  const old = image.readUInt16LE(at);
  image.writeUInt16LE(
    cluster % 2 === 0 ? (old & 0xf000) | (value & 0xfff) : (old & 0x000f) | ((value & 0xfff) << 4),
    at,
  );
}

/** Points the FAT32 root's first sub-folder at the root cluster (a loop to an ancestor). */
export function fatLoopToRoot(image: Buffer, offset = 0): void {
  const g = fatGeometry(image, offset);
  if (!g.fat32) throw new Error("the root is a cluster only on FAT32");
  setFatCluster(image, fatFirstSubdir(image, offset).pos, g.rootCluster);
}

/** A small tree for damaged images: nested folders, long names, a few files. */
export async function writeSampleTree(dir: string): Promise<void> {
  for (const sub of ["boot/grub", "sources/drivers/net", "Long folder name for tests"])
    await mkdir(join(dir, sub), { recursive: true });
  await writeFile(join(dir, "boot/grub/grub.cfg"), "set timeout=5\n");
  await writeFile(join(dir, "sources/install.wim"), Buffer.alloc(200_000, 7));
  await writeFile(join(dir, "sources/drivers/net/e1000.inf"), "[Version]\n");
  await writeFile(join(dir, "Long folder name for tests/A file with a long name.txt"), "hello\n");
}

/** ISO images of `dir` made by xorriso (Rock Ridge + Joliet, and plain ISO 9660 + Joliet). */
export async function xorrisoImages(dir: string, out: string): Promise<string[]> {
  const rr = `${out}-xorriso-rr.iso`,
    joliet = `${out}-xorriso-joliet.iso`;
  await execa("xorriso", ["-as", "mkisofs", "-quiet", "-R", "-J", "-V", "XORRISO", "-o", rr, dir]);
  await execa("xorriso", ["-as", "mkisofs", "-quiet", "-J", "-V", "XORRISO", "-o", joliet, dir]);
  return [rr, joliet];
}

/** A FAT image of `dir` made by mkfs.fat + mcopy. */
export async function mkfsFatImage(dir: string, out: string, fatType: 12 | 16 | 32): Promise<string> {
  const path = `${out}-mkfs-fat${fatType}.img`;
  const mib = fatType === 32 ? 40 : fatType === 16 ? 20 : 4;
  await execa("truncate", ["-s", `${mib}M`, path]);
  await execa("mkfs.fat", ["-F", String(fatType), "-n", `MKFS${fatType}`, path]);
  await execa("mcopy", ["-s", "-i", path, ...(await readdir(dir)).map((x) => join(dir, x)), "::"]);
  return path;
}
