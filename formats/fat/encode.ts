/**
 * Encoders for the metadata regions of a planned FAT volume: boot sector + BPB, FSInfo,
 * FAT chunks and directory clusters. Each returns bytes; write.ts places them.
 */
import { encodeRecord } from "../record.ts";
import type { FatPlan, PlanDir } from "./plan.ts";
import { checksumShortName, toDosTimestamp, type DosTimestamp } from "./names.ts";
import {
  ATTR,
  BOOT_SIGNATURE,
  BPB,
  BPB16,
  BPB32,
  DIR_ENTRY,
  DIR_ENTRY_BYTES,
  EXT_BOOT_SIGNATURE,
  FAT_MARKS,
  FSINFO,
  FSINFO_SIGNATURES,
  LFN_CHARS_PER_ENTRY,
  LFN_ENTRY,
  LFN_LAST_ENTRY_FLAG,
  MEDIA_FIXED_DISK,
  SECTOR_BYTES,
} from "./structures.ts";

/** FAT32 sector numbers of the FSInfo and the backup boot sector (spec §3.3: 1 and 6). */
export const FAT32_FSINFO_SECTOR = 1;
export const FAT32_BACKUP_BOOT_SECTOR = 6;
/** The volume boot code is never run (GRUB boots from the MBR): it asks the BIOS for the next device. */
const BOOT_STUB = Buffer.from([0xcd, 0x18, 0xeb, 0xfe]); // int 18h; jmp $
const NO_NAME = "NO NAME    ";

/** Boot sector with BPB (spec §3); `hiddenSectors` is the partition's start LBA. */
export function encodeBootSector(plan: FatPlan, hiddenSectors: number): Buffer {
  const buf = Buffer.alloc(SECTOR_BYTES);
  const fat32 = plan.fatType === 32;
  const codeOffset = fat32 ? BPB32.fields.BootCode.offset : BPB16.fields.BootCode.offset;
  encodeRecord(
    BPB,
    {
      // Short jump over the BPB to the boot code, then NOP (spec §3.1 BS_jmpBoot).
      BS_jmpBoot: Buffer.from([0xeb, codeOffset - 2, 0x90]),
      BS_OEMName: "MSWIN4.1", // the spec's most compatible OEM name
      BPB_BytsPerSec: SECTOR_BYTES,
      BPB_SecPerClus: plan.sectorsPerCluster,
      BPB_RsvdSecCnt: plan.reservedSectors,
      BPB_NumFATs: plan.numFats,
      BPB_RootEntCnt: plan.rootEntries,
      BPB_TotSec16: !fat32 && plan.totalSectors < 0x10000 ? plan.totalSectors : 0,
      BPB_Media: MEDIA_FIXED_DISK,
      BPB_FATSz16: fat32 ? 0 : plan.fatSectors,
      BPB_SecPerTrk: 63,
      BPB_NumHeads: 255,
      BPB_HiddSec: hiddenSectors,
      BPB_TotSec32: !fat32 && plan.totalSectors < 0x10000 ? 0 : plan.totalSectors,
      Signature_word: BOOT_SIGNATURE,
    },
    buf,
    0,
  );
  const ext = {
    BS_DrvNum: 0x80,
    BS_BootSig: EXT_BOOT_SIGNATURE,
    BS_VolID: plan.volumeId,
    BS_VolLab: plan.label ?? NO_NAME,
    BS_FilSysType: `FAT${plan.fatType}   `,
  };
  if (fat32) {
    encodeRecord(
      BPB32,
      {
        ...ext,
        BPB_FATSz32: plan.fatSectors,
        BPB_ExtFlags: 0,
        BPB_FSVer: 0,
        BPB_RootClus: plan.root.firstCluster,
        BPB_FSInfo: FAT32_FSINFO_SECTOR,
        BPB_BkBootSec: FAT32_BACKUP_BOOT_SECTOR,
      },
      buf,
      0,
    );
  } else {
    encodeRecord(BPB16, ext, buf, 0);
  }
  buf.set(BOOT_STUB, codeOffset);
  return buf;
}

/** FAT32 FSInfo sector (spec §5): exact free count and the first free cluster. */
export function encodeFsInfo(plan: FatPlan): Buffer {
  const buf = Buffer.alloc(SECTOR_BYTES);
  encodeRecord(
    FSINFO,
    {
      FSI_LeadSig: FSINFO_SIGNATURES.lead,
      FSI_StrucSig: FSINFO_SIGNATURES.struc,
      FSI_Free_Count: plan.freeClusters,
      FSI_Nxt_Free: plan.freeClusters > 0 ? plan.usedClusters + 2 : 0xffffffff,
      FSI_TrailSig: FSINFO_SIGNATURES.trail,
    },
    buf,
    0,
  );
  return buf;
}

/** Every cluster chain of the plan, ascending: contiguous runs [first, first + count). */
export function listChains(plan: FatPlan): Array<{ first: number; count: number }> {
  const chains: Array<{ first: number; count: number }> = [];
  for (const f of plan.files) if (f.clusters) chains.push({ first: f.firstCluster, count: f.clusters });
  for (const d of plan.dirs) if (d.clusters) chains.push({ first: d.firstCluster, count: d.clusters });
  // Ascending, as fillFatEntries' search needs (files come first on disk, see plan.ts).
  return chains.sort((a, b) => a.first - b.first);
}

/**
 * FAT entries [from, to) as values: each cluster of a run points to the next, the last holds
 * the end-of-chain mark; entries past the used clusters are free (0). Spec §4.
 */
export function fillFatEntries(
  plan: FatPlan,
  chains: Array<{ first: number; count: number }>,
  from: number,
  to: number,
  out: Uint32Array,
): void {
  const marks = FAT_MARKS[plan.fatType];
  out.fill(0, 0, to - from);
  if (from === 0 && to > 0) out[0] = marks.fat0;
  if (from <= 1 && to > 1) out[1 - from] = marks.fat1;
  // Chains are ascending and contiguous: binary-search the first one reaching `from`.
  let lo = 0,
    hi = chains.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (chains[mid].first + chains[mid].count <= from) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < chains.length && chains[i].first < to; i++) {
    const { first, count } = chains[i];
    const last = first + count - 1;
    for (let c = Math.max(first, from); c <= Math.min(last, to - 1); c++)
      out[c - from] = c === last ? marks.eoc : c + 1;
  }
}

/** Packs FAT entry values into their on-disk width: 12-bit pairs, 16 or 32 bits (spec §4). */
export function packFatEntries(fatType: 12 | 16 | 32, values: Uint32Array, count: number): Buffer {
  if (fatType === 32) return Buffer.from(values.buffer, values.byteOffset, count * 4);
  if (fatType === 16) {
    const buf = Buffer.alloc(count * 2);
    for (let i = 0; i < count; i++) buf.writeUInt16LE(values[i], i * 2);
    return buf;
  }
  const buf = Buffer.alloc(Math.ceil(count * 1.5));
  for (let i = 0; i < count; i++) {
    const at = Math.floor(i * 1.5);
    const v = values[i] & 0xfff;
    if (i % 2 === 0) {
      buf[at] = v & 0xff;
      buf[at + 1] = (buf[at + 1] & 0xf0) | (v >> 8);
    } else {
      buf[at] = (buf[at] & 0x0f) | ((v & 0x0f) << 4);
      buf[at + 1] = v >> 4;
    }
  }
  return buf;
}

function writeShortEntry(
  buf: Buffer,
  at: number,
  name: string,
  attr: number,
  cluster: number,
  size: number,
  ts: DosTimestamp,
): void {
  encodeRecord(
    DIR_ENTRY,
    {
      DIR_Name: name,
      DIR_Attr: attr,
      DIR_NTRes: 0,
      DIR_CrtTimeTenth: 0,
      DIR_CrtTime: ts.time,
      DIR_CrtDate: ts.date,
      DIR_LstAccDate: ts.date,
      DIR_FstClusHI: cluster >>> 16,
      DIR_WrtTime: ts.time,
      DIR_WrtDate: ts.date,
      DIR_FstClusLO: cluster & 0xffff,
      DIR_FileSize: size,
    },
    buf,
    at,
  );
}

/**
 * UTF-16LE units of one long name, padded as spec §7 wants; one scratch buffer reused for
 * every name. (Slicing a fresh typed array per LFN piece made thousands of small off-heap
 * buffers: measured +15 MiB RSS for 3,000 names.)
 */
const lfnUnits = Buffer.alloc(Math.ceil(255 / LFN_CHARS_PER_ENTRY) * LFN_CHARS_PER_ENTRY * 2);

/** LFN entries for a name, physically last piece first (spec §7). Returns the next offset. */
function writeLfnEntries(buf: Buffer, at: number, longName: string, shortName: string): number {
  const n = Math.ceil(longName.length / LFN_CHARS_PER_ENTRY);
  const unitCount = n * LFN_CHARS_PER_ENTRY;
  lfnUnits.fill(0xff, 0, unitCount * 2);
  for (let i = 0; i < longName.length; i++) lfnUnits.writeUInt16LE(longName.charCodeAt(i), i * 2);
  if (longName.length < unitCount) lfnUnits.writeUInt16LE(0, longName.length * 2); // NUL ends a name that does not fill its last entry
  const chk = checksumShortName(Buffer.from(shortName, "latin1"));
  const piece = (from: number, count: number) => lfnUnits.subarray(from * 2, (from + count) * 2);
  for (let ord = n; ord >= 1; ord--) {
    const base = (ord - 1) * LFN_CHARS_PER_ENTRY;
    encodeRecord(
      LFN_ENTRY,
      {
        LDIR_Ord: ord === n ? ord | LFN_LAST_ENTRY_FLAG : ord,
        LDIR_Name1: piece(base, 5),
        LDIR_Attr: ATTR.LONG_NAME,
        LDIR_Type: 0,
        LDIR_Chksum: chk,
        LDIR_Name2: piece(base + 5, 6),
        LDIR_FstClusLO: 0,
        LDIR_Name3: piece(base + 11, 2),
      },
      buf,
      at,
    );
    at += DIR_ENTRY_BYTES;
  }
  return at;
}

/** A directory's entries, zero-padded to `bytes`. */
export function encodeDirectory(plan: FatPlan, dir: PlanDir, parent: PlanDir | undefined, bytes: number): Buffer {
  const buf = Buffer.alloc(bytes);
  const ts = toDosTimestamp(plan.sourceDateEpoch);
  let at = 0;
  if (!parent) {
    if (plan.label) {
      writeShortEntry(buf, at, plan.label, ATTR.VOLUME_ID, 0, 0, ts);
      at += DIR_ENTRY_BYTES;
    }
  } else {
    // "." and ".." (spec §6.7); ".." of a root child points to cluster 0 even on FAT32.
    writeShortEntry(buf, at, ".          ", ATTR.DIRECTORY, dir.firstCluster, 0, ts);
    writeShortEntry(
      buf,
      at + DIR_ENTRY_BYTES,
      "..         ",
      ATTR.DIRECTORY,
      parent.path === "" ? 0 : parent.firstCluster,
      0,
      ts,
    );
    at += 2 * DIR_ENTRY_BYTES;
  }
  for (const c of dir.children) {
    if (c.needsLfn) at = writeLfnEntries(buf, at, c.name, c.shortName);
    if (c.kind === "dir") writeShortEntry(buf, at, c.shortName, ATTR.DIRECTORY, c.firstCluster, 0, ts);
    else writeShortEntry(buf, at, c.shortName, ATTR.ARCHIVE, c.firstCluster, c.size, ts);
    at += DIR_ENTRY_BYTES;
  }
  return buf;
}
