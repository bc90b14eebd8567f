/**
 * Mutations for the inspect fuzzer, applied to a seed's head in memory: byte flips (anywhere
 * and where the metadata lies), fields of the real records set to edge values (0, 1, huge,
 * past the end, pointing back), directory loops, and truncation. Records are found through
 * the readers' own field tables.
 */
import { BPB, BPB16, BPB32, DIR_ENTRY, DIR_ENTRY_BYTES, SECTOR_BYTES } from "../fat/structures.ts";
import { MBR, PARTITION_RECORD } from "../disk/mbr.ts";
import { DIRECTORY_RECORD, SECTOR, SYSTEM_AREA_SECTORS, VOLUME_DESCRIPTOR } from "../iso9660/records.ts";
import { CE, NM, PX } from "../iso9660/susp.ts";
import { decodeRecord, encodeRecord, type Field, type RecordLayout } from "../record.ts";
import {
  fatFirstSubdir,
  fatLoopToRoot,
  fatSelfLoop,
  isoFirstSubdir,
  isoLoopToRoot,
  isoRootRecordPos,
  isoRootRecords,
  setFatEntry,
} from "../testing/damage.ts";
import type { Seed } from "./fuzz-seeds.ts";

export type Rnd = () => number;
export interface Mutation {
  name: string;
  /** Truncate the image to this many bytes (after the head patches). */
  truncateTo?: number;
}

const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const int = (rnd: Rnd, n: number) => Math.floor(rnd() * n);

function edgeValue(rnd: Rnd, seed: Seed, hint?: number): number {
  const sectors = Math.ceil(seed.size / SECTOR);
  return pick(rnd, [
    0,
    1,
    2,
    0x7f,
    0xff,
    0xffff,
    0x7fffffff,
    0xffffffff,
    0xfffffff0,
    int(rnd, 2 ** 32),
    int(rnd, 1000),
    sectors + int(rnd, 16),
    sectors - 1,
    seed.size,
    seed.size * 4,
    hint ?? 0,
    (hint ?? 0) + 1,
  ]);
}

const WIDTH: Partial<Record<Field["kind"], number>> = {
  u8: 1,
  u16le: 2,
  u16be: 2,
  u16both: 2,
  u32le: 4,
  u32be: 4,
  u32both: 4,
};

/** Sets one field of the record at `pos` to an edge value (numbers masked to the field's width; text and bytes random). */
function mutateField(rnd: Rnd, seed: Seed, head: Buffer, layout: RecordLayout, pos: number, only?: string[]): string {
  if (pos < 0 || pos + layout.size > head.length) return "field (record outside head)";
  const names = only ?? Object.keys(layout.fields);
  const name = pick(rnd, names);
  const f = layout.fields[name];
  const width = WIDTH[f.kind];
  if (width) {
    const before = decodeRecord(layout, head, pos)[name] as number;
    const v = edgeValue(rnd, seed, before) % 2 ** (8 * width);
    encodeRecord(layout, { [name]: v } as never, head, pos);
    return `${name}=${v}`;
  }
  for (let i = 0; i < f.size; i++) head[pos + f.offset + i] = int(rnd, 256);
  return `${name}=random bytes`;
}

function flip(rnd: Rnd, head: Buffer, from: number, to: number): string {
  const end = Math.min(to, head.length);
  if (end <= from) return "flip (empty range)";
  const n = 1 + int(rnd, 16);
  for (let i = 0; i < n; i++) head[from + int(rnd, end - from)] = int(rnd, 256);
  return `flip ${n} bytes in [${from}, ${end})`;
}

/** Positions of SUSP entries with signature `sig` in the head (ISO): "CE", "NM", "PX". */
function suspEntries(head: Buffer, sig: string, minLength: number): number[] {
  const out: number[] = [];
  for (
    let at = head.indexOf(sig, SYSTEM_AREA_SECTORS * SECTOR, "latin1");
    at >= 0 && out.length < 200;
    at = head.indexOf(sig, at + 1, "latin1")
  ) {
    if (head[at + 2] >= minLength && head[at + 3] === 1) out.push(at);
  }
  return out;
}

const ISO_MUTATIONS: Array<(rnd: Rnd, seed: Seed, head: Buffer) => Mutation> = [
  (rnd, _s, head) => ({ name: flip(rnd, head, 0, head.length) }),
  (rnd, _s, head) => ({ name: flip(rnd, head, SYSTEM_AREA_SECTORS * SECTOR, 40 * SECTOR) }),
  (rnd, seed, head) => ({
    name: `root record ${mutateField(rnd, seed, head, DIRECTORY_RECORD, isoRootRecordPos(), ["length", "extent", "dataLength", "flags", "identifierLength"])}`,
  }),
  (rnd, seed, head) => ({
    name: `PVD ${mutateField(rnd, seed, head, VOLUME_DESCRIPTOR, SYSTEM_AREA_SECTORS * SECTOR, ["type", "volumeSpaceSize", "logicalBlockSize", "pathTableSize", "typeLPathTable", "version"])}`,
  }),
  (rnd, seed, head) => {
    const recs = isoRootRecords(head);
    const r = pick(rnd, recs);
    return {
      name: `record ${JSON.stringify(r.id)} ${mutateField(rnd, seed, head, DIRECTORY_RECORD, r.pos, ["length", "extent", "dataLength", "flags", "identifierLength"])}`,
    };
  },
  (rnd, seed, head) => {
    const sub = isoFirstSubdir(head);
    const at = sub.extent * SECTOR + int(rnd, 4) * 34;
    return {
      name: `sub-folder data ${mutateField(rnd, seed, head, DIRECTORY_RECORD, at, ["length", "extent", "dataLength", "flags", "identifierLength"])}`,
    };
  },
  (rnd, _s, head) =>
    rnd() < 0.5
      ? (isoLoopToRoot(head), { name: "loop to root" })
      : ((head[isoFirstSubdir(head).extent * SECTOR + DIRECTORY_RECORD.size] = 0x41),
        { name: "folder listing itself" }),
  (rnd, seed, head) => {
    const [sig, layout] = pick(rnd, [
      ["CE", CE],
      ["NM", NM],
      ["PX", PX],
    ] as const);
    const at = suspEntries(head, sig, layout.size);
    if (!at.length) return { name: `no ${sig} entry` };
    return { name: `SUSP ${sig} ${mutateField(rnd, seed, head, layout, pick(rnd, at))}` };
  },
  (rnd, seed) => ({ name: "truncate", truncateTo: int(rnd, seed.size) }),
];

function fatGeometry(head: Buffer, offset: number) {
  const bpb = decodeRecord(BPB, head, offset);
  const fatSectors = bpb.BPB_FATSz16 || decodeRecord(BPB32, head, offset).BPB_FATSz32;
  const rootSector = bpb.BPB_RsvdSecCnt + bpb.BPB_NumFATs * fatSectors;
  return {
    fatPos: offset + bpb.BPB_RsvdSecCnt * SECTOR_BYTES,
    rootPos: offset + rootSector * SECTOR_BYTES,
    fat32: bpb.BPB_FATSz16 === 0,
  };
}

const FAT_MUTATIONS: Array<(rnd: Rnd, seed: Seed, head: Buffer) => Mutation> = [
  (rnd, _s, head) => ({ name: flip(rnd, head, 0, head.length) }),
  (rnd, s, head) => ({ name: flip(rnd, head, s.fatOffset, s.fatOffset + SECTOR_BYTES) }),
  (rnd, s, head) => {
    const g = fatGeometry(head, s.fatOffset);
    return { name: flip(rnd, head, g.rootPos, g.rootPos + 4096) };
  },
  (rnd, s, head) => ({ name: `BPB ${mutateField(rnd, s, head, BPB, s.fatOffset)}` }),
  (rnd, s, head) => {
    const g = fatGeometry(head, s.fatOffset);
    return { name: `extended BPB ${mutateField(rnd, s, head, g.fat32 ? BPB32 : BPB16, s.fatOffset)}` };
  },
  (rnd, s, head) => {
    const sub = fatFirstSubdir(head, s.fatOffset);
    return {
      name: `folder entry ${mutateField(rnd, s, head, DIR_ENTRY, sub.pos, ["DIR_Attr", "DIR_FstClusHI", "DIR_FstClusLO", "DIR_FileSize"])}`,
    };
  },
  (rnd, s, head) => {
    const g = fatGeometry(head, s.fatOffset);
    const at = g.fat32
      ? fatFirstSubdir(head, s.fatOffset).pos - DIR_ENTRY_BYTES * int(rnd, 4)
      : g.rootPos + DIR_ENTRY_BYTES * int(rnd, 8);
    return {
      name: `root entry ${mutateField(rnd, s, head, DIR_ENTRY, Math.max(at, g.rootPos), ["DIR_Name", "DIR_Attr", "DIR_FstClusLO", "DIR_FileSize"])}`,
    };
  },
  (rnd, s, head) => {
    const c = rnd() < 0.5 ? fatFirstSubdir(head, s.fatOffset).cluster : 2 + int(rnd, 60);
    const v = pick(rnd, [0, 1, c, c - 1, 2, 0x0ffffff7, 0xffffffff, int(rnd, 2 ** 28), 3 + int(rnd, 60)]);
    setFatEntry(head, s.fatOffset, c, v);
    return { name: `FAT[${c}]=${v}` };
  },
  (rnd, s, head) => {
    if (rnd() < 0.5 && fatGeometry(head, s.fatOffset).fat32) {
      fatLoopToRoot(head, s.fatOffset);
      return { name: "loop to root" };
    }
    fatSelfLoop(head, s.fatOffset);
    return { name: "folder listing itself" };
  },
  (rnd, seed) => ({ name: "truncate", truncateTo: int(rnd, seed.size) }),
];

const DISK_MUTATIONS: Array<(rnd: Rnd, seed: Seed, head: Buffer) => Mutation> = [
  ...FAT_MUTATIONS,
  (rnd, s, head) => ({
    name: `partition ${mutateField(rnd, s, head, PARTITION_RECORD, MBR.fields.PartitionRecord.offset, ["BootIndicator", "OSType", "StartingLBA", "SizeInLBA"])}`,
  }),
];

/** Applies 1-3 random mutations of the seed's kind to `head`; returns what was done. */
export function mutate(rnd: Rnd, seed: Seed, head: Buffer): Mutation {
  const table = seed.kind === "iso" ? ISO_MUTATIONS : seed.kind === "fat" ? FAT_MUTATIONS : DISK_MUTATIONS;
  const names: string[] = [];
  let truncateTo: number | undefined;
  for (let n = 1 + (rnd() < 0.3 ? int(rnd, 3) : 0); n > 0; n--) {
    let m: Mutation;
    try {
      m = pick(rnd, table)(rnd, seed, head);
    } catch (e) {
      m = { name: `(skipped: ${(e as Error).message})` }; // an earlier mutation hid the record this one looks for
    }
    names.push(m.name);
    if (m.truncateTo !== undefined) truncateTo = Math.min(truncateTo ?? Infinity, m.truncateTo);
  }
  return { name: names.join("; "), truncateTo };
}
