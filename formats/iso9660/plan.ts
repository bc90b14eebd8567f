/**
 * Places everything: logical block addresses in a fixed order (descriptors, boot catalog,
 * file data, path tables, directories, continuation areas, padding, GPT backup), names,
 * system use and directory sizes. Nothing here depends on the clock or on file contents.
 */
import { BootmediaError } from "../../base/errors.ts";
import type { TreeEntry, TreeFile } from "../../base/tree.ts";
import { extentCount, sizeDirectory, sizePathTable, systemUseRoom } from "./dirs.ts";
import { validateVolumeId } from "./names.ts";
import { MAX_EXTENT, SECTOR, SYSTEM_AREA_SECTORS } from "./records.ts";
import {
  encodeEr,
  encodeNm,
  encodePx,
  encodeRr,
  encodeSp,
  encodeTf,
  layoutSystemUse,
  S_IFDIR,
  S_IFREG,
  type SystemUse,
} from "./susp.ts";
import { buildTree, listFiles, nameTree, walkDirs, type DirNode, type FileNode } from "./tree.ts";
import type { IsoExtent, IsoOptions, IsoPlan, IsoRegion } from "./types.ts";
import { GPT_TAIL_SECTORS } from "./hybrid.ts";
import { PLATFORM } from "./eltorito.ts";
import {
  bootEntriesOf,
  MAX_LOAD_SECTORS,
  platformByte,
  resolveBootEntry,
  validateBootEntries,
  type PlacedPartition,
  type ResolvedBootEntry,
} from "./boot-entries.ts";

export { inlineBootPaths, type ResolvedBootEntry } from "./boot-entries.ts";
import "./codes.ts";

/**
 * 300 KiB of zeros after the data, like mkisofs/xorriso -pad: GRUB's CD boot code (and some
 * drives' read-ahead) read past the last file; without it a tiny image does not boot.
 */
const TRAILING_PAD_SECTORS = 150;
/** One cylinder of 64 heads x 32 sectors x 512 bytes, in 2048-byte blocks. */
const ISOHYBRID_CYLINDER_SECTORS = (64 * 32 * 512) / SECTOR;

export interface ContinuationBlock {
  lba: number;
  parts: { offset: number; data: Buffer[] }[];
}

export interface IsoLayout {
  opts: IsoOptions;
  root: DirNode;
  dirs: DirNode[];
  jdirs: DirNode[];
  files: FileNode[];
  lba: {
    pvd: number;
    bootRecord?: number;
    svd: number;
    terminator: number;
    catalog?: number;
    pathL: number;
    pathM: number;
    jPathL: number;
    jPathM: number;
  };
  pathTableSize: number;
  jPathTableSize: number;
  continuation: ContinuationBlock[];
  regions: IsoRegion[];
  bios?: FileNode;
  efi?: { node: FileNode; loadSectors: number };
  /** Every catalog entry, resolved, in catalog order. */
  boot: ResolvedBootEntry[];
  /** Appended partitions, after the tree (and its padding). */
  appended: PlacedPartition[];
  /** Sectors of the ISO volume (the PVD's volume space): all but appended partitions and a GPT backup after them. */
  isoSectors: number;
  totalSectors: number;
}

const sectorsOf = (bytes: number) => Math.ceil(bytes / SECTOR);

export function validateOptions(opts: IsoOptions): void {
  validateVolumeId(opts.volumeId);
  if (!Number.isSafeInteger(opts.sourceDateEpoch) || opts.sourceDateEpoch < 0) {
    throw new BootmediaError("BM3106", `sourceDateEpoch must be a non-negative integer, got ${opts.sourceDateEpoch}`);
  }
  const code = opts.hybrid?.mbrCode;
  if (code && code.length > SYSTEM_AREA_SECTORS * SECTOR)
    throw new BootmediaError(
      "BM3106",
      `system area is ${code.length} bytes; at most ${SYSTEM_AREA_SECTORS * SECTOR} expected`,
    );
  const entries = bootEntriesOf(opts);
  if (opts.hybrid && entries.length === 0) throw new BootmediaError("BM3106", "hybrid needs a BIOS or EFI boot image");
  validateBootEntries(entries, opts.appendPartitions ?? []);
  for (const s of [opts.publisher, opts.application]) {
    if (s !== undefined && (s.length > 128 || /[^\x20-\x7e]/.test(s)))
      throw new BootmediaError("BM3106", `publisher/application must be at most 128 printable ASCII characters: ${s}`);
  }
}

function findBootFile(root: DirNode, path: string): FileNode {
  let node: DirNode | FileNode | undefined = root;
  for (const part of path.split("/")) node = node?.kind === "dir" ? node.children.get(part) : undefined;
  if (node?.kind !== "file" || node.entry.size === 0) {
    throw new BootmediaError("BM3105", `boot image ${path} is not a non-empty file of the tree`, { where: path });
  }
  return node;
}

/** Rock Ridge entries of every primary record (RRIP 1.10; SP and ER only on the root's "."). */
function attachSystemUse(root: DirNode, epoch: number): void {
  const tf = encodeTf(epoch);
  const rr = encodeRr();
  // PX entries repeat (same mode and link count for most records): encode each distinct one once.
  const pxCache = new Map<number, Buffer>();
  const px = (mode: number, links: number) => {
    const key = mode * 2 ** 32 + links;
    let b = pxCache.get(key);
    if (!b) pxCache.set(key, (b = encodePx(mode, links)));
    return b;
  };
  const dirPx = (d: DirNode) =>
    px(S_IFDIR | d.mode, 2 + [...d.children.values()].filter((k) => k.kind === "dir").length);
  for (const dir of walkDirs(root)) {
    const self = [rr, dirPx(dir), tf];
    dir.selfSu = layoutSystemUse(dir.parent ? self : [encodeSp(), ...self, encodeEr()], systemUseRoom(1));
    dir.parentSu = layoutSystemUse([rr, dirPx(dir.parent ?? dir), tf], systemUseRoom(1));
    for (const kid of dir.children.values()) {
      const room = systemUseRoom(kid.isoId.length);
      const entries = [rr, kid.kind === "dir" ? dirPx(kid) : px(S_IFREG | kid.mode, 1), tf, ...encodeNm(kid.name)];
      const n = kid.kind === "dir" ? 1 : extentCount(kid.entry.size);
      kid.su = [];
      for (let i = 0; i < n; i++) kid.su.push(layoutSystemUse(entries, room));
    }
  }
}

/** Packs continuation areas into blocks without crossing a block boundary (SUSP §5.1). */
function placeContinuations(dirs: DirNode[], firstLba: number): ContinuationBlock[] {
  const blocks: ContinuationBlock[] = [];
  const place = (su: SystemUse | null) => {
    if (!su || su.continued.length === 0) return;
    let cur = blocks[blocks.length - 1];
    const used = cur
      ? cur.parts.reduce((n, p) => Math.max(n, p.offset + p.data.reduce((m, b) => m + b.length, 0)), 0)
      : SECTOR;
    if (!cur || used + su.contLength > SECTOR) {
      cur = { lba: firstLba + blocks.length, parts: [] };
      blocks.push(cur);
    }
    const offset = cur.parts.length === 0 ? 0 : used;
    cur.parts.push({ offset, data: su.continued });
    su.contLba = cur.lba;
    su.contOffset = offset;
  };
  for (const d of dirs) {
    place(d.selfSu);
    place(d.parentSu);
    for (const k of d.isoOrder) for (const su of k.su) place(su);
  }
  return blocks;
}

/** Where every file's data goes: placed before the tree is named, so copying can start at once. */
interface DataPlacement {
  /** Files in data (LBA) order, each with its extents; empty files point at block 0. */
  files: { entry: TreeFile; extents: IsoExtent[] }[];
  /** First sector of the file data, and the first sector after it. */
  start: number;
  end: number;
  /** Sectors of the descriptors and boot catalog before the data. */
  lba: { pvd: number; bootRecord?: number; svd: number; terminator: number; catalog?: number };
}

function extentsAt(base: number, size: number): IsoExtent[] {
  const out: IsoExtent[] = [];
  for (let i = 0, n = extentCount(size); i < n; i++)
    out.push({
      lba: size === 0 ? 0 : base + i * (MAX_EXTENT / SECTOR),
      length: Math.min(MAX_EXTENT, size - i * MAX_EXTENT),
    });
  return out;
}

/**
 * Places the file data right after the volume descriptors and the boot catalog: boot images
 * first, then every other file in path order (so the same tree gives the same image whatever
 * the entry order). Directories and path tables follow the data (ECMA-119 leaves their place
 * free), which is what lets a writer start copying payloads before it has named the tree.
 */
export function placeData(entries: readonly TreeEntry[], opts: IsoOptions): DataPlacement {
  const bootEntries = bootEntriesOf(opts);
  const boot = bootEntries.length > 0;
  let next = SYSTEM_AREA_SECTORS;
  const take = (sectors: number) => (next += sectors) - sectors;
  const lba = {
    pvd: take(1),
    bootRecord: boot ? take(1) : undefined,
    svd: take(1),
    terminator: take(1),
    catalog: boot ? take(1) : undefined,
  };
  const bootPaths = [...new Set(bootEntries.map((e) => e.image).filter((p): p is string => typeof p === "string"))];
  const rank = (e: TreeFile) => {
    const i = bootPaths.indexOf(e.path);
    return i < 0 ? bootPaths.length : i;
  };
  const files = entries
    .filter((e): e is TreeFile => e.type === "file")
    .map((entry) => ({ entry, rank: rank(entry) }))
    .sort((a, b) => a.rank - b.rank || (a.entry.path < b.entry.path ? -1 : a.entry.path > b.entry.path ? 1 : 0));
  const start = next;
  const placed = files.map(({ entry }) => ({
    entry,
    extents: extentsAt(entry.size === 0 ? 0 : take(sectorsOf(entry.size)), entry.size),
  }));
  return { files: placed, start, end: next, lba };
}

/** Computes the whole layout of the image (`data` when the caller placed it already). */
export function layoutIso(entries: readonly TreeEntry[], opts: IsoOptions, data = placeData(entries, opts)): IsoLayout {
  validateOptions(opts);
  const root = buildTree(entries);
  nameTree(root);
  attachSystemUse(root, opts.sourceDateEpoch);
  const dirs = walkDirs(root, "iso");
  const jdirs = walkDirs(root, "joliet");
  dirs.forEach((d, i) => (d.number = i + 1));
  jdirs.forEach((d, i) => (d.jNumber = i + 1));
  if (dirs.length > 0xffff)
    throw new BootmediaError("BM3106", `${dirs.length} folders; path tables hold at most 65535`);
  const bootEntries = bootEntriesOf(opts);
  const bootNodes = bootEntries.map((e) => (typeof e.image === "string" ? findBootFile(root, e.image) : undefined));
  const firstOf = (platform: number) =>
    bootNodes.find((n, i) => n && platformByte(bootEntries[i].platform) === platform);
  const bios = firstOf(PLATFORM.BIOS);
  const efiNode = firstOf(PLATFORM.EFI);

  const nodes = new Map<TreeFile, FileNode>();
  for (const f of listFiles(root)) nodes.set(f.entry, f);
  const files = data.files.map(({ entry, extents }) => {
    const node = nodes.get(entry)!;
    node.extents = extents;
    return node;
  });

  const regions: IsoRegion[] = [];
  let next = SYSTEM_AREA_SECTORS;
  const take = (name: string, sectors: number) => {
    const lba = next;
    if (name && sectors > 0) regions.push({ name, lba, sectors });
    next += sectors;
    return lba;
  };
  const boot = bootEntries.length > 0;
  take("primary volume descriptor", 1);
  if (boot) take("El Torito boot record", 1);
  take("Joliet volume descriptor", 1);
  take("descriptor set terminator", 1);
  if (boot) take("El Torito boot catalog", 1);
  take("file data", data.end - data.start);
  const pathTableSize = sizePathTable(dirs, "iso");
  const jPathTableSize = sizePathTable(jdirs, "joliet");
  const lba = {
    ...data.lba,
    pathL: take("path table L", sectorsOf(pathTableSize)),
    pathM: take("path table M", sectorsOf(pathTableSize)),
    jPathL: take("Joliet path table L", sectorsOf(jPathTableSize)),
    jPathM: take("Joliet path table M", sectorsOf(jPathTableSize)),
  };
  // Directory sizes do not depend on addresses, so size first, then place.
  for (const d of dirs) d.size = sizeDirectory(d, "iso");
  for (const d of jdirs) d.jSize = sizeDirectory(d, "joliet");
  const dirStart = next;
  for (const d of dirs) d.lba = take("", sectorsOf(d.size));
  regions.push({ name: "directories", lba: dirStart, sectors: next - dirStart });
  const jdirStart = next;
  for (const d of jdirs) d.jLba = take("", sectorsOf(d.jSize));
  regions.push({ name: "Joliet directories", lba: jdirStart, sectors: next - jdirStart });
  const continuation = placeContinuations(dirs, next);
  take("Rock Ridge continuation areas", continuation.length);
  take("padding", TRAILING_PAD_SECTORS);
  // isohybrid images end on a cylinder of the 64 x 32 geometry (1 MiB), as isohybrid and xorriso's -isohybrid-mbr pad them: some BIOSes want whole cylinders.
  if (opts.hybrid?.mbrPatch === "isohybrid")
    take(
      "cylinder padding",
      (ISOHYBRID_CYLINDER_SECTORS - (next % ISOHYBRID_CYLINDER_SECTORS)) % ISOHYBRID_CYLINDER_SECTORS,
    );
  const appendParts = opts.appendPartitions ?? [];
  // Without appended partitions the GPT backup lies inside the volume, as before; with them it follows them.
  if (opts.hybrid?.gpt && appendParts.length === 0) take("GPT backup", GPT_TAIL_SECTORS);
  const isoSectors = next;
  const appended = [...appendParts]
    .sort((a, b) => a.number - b.number)
    .map((part) => ({
      part,
      sectors: sectorsOf(part.source.size),
      lba: take(`appended partition ${part.number}`, sectorsOf(part.source.size)),
    }));
  if (opts.hybrid?.gpt && appendParts.length > 0) take("GPT backup", GPT_TAIL_SECTORS);
  regions.sort((a, b) => a.lba - b.lba);
  const efiSectors = efiNode ? Math.ceil(efiNode.entry.size / 512) : 0;
  const resolved = bootEntries.map((e, i) => resolveBootEntry(e, i, bootNodes[i], appended));
  return {
    opts,
    root,
    dirs,
    jdirs,
    files,
    lba,
    pathTableSize,
    jPathTableSize,
    continuation,
    regions,
    bios,
    efi: efiNode ? { node: efiNode, loadSectors: efiSectors > MAX_LOAD_SECTORS ? 0 : efiSectors } : undefined,
    boot: resolved,
    appended,
    isoSectors,
    totalSectors: next,
  };
}

/** Sizes and extents of the image the entries would give, without reading or writing data. */
export function planIso(entries: readonly TreeEntry[], opts: IsoOptions): IsoPlan {
  const l = layoutIso(entries, opts);
  return {
    volumeId: opts.volumeId,
    totalSectors: l.totalSectors,
    totalBytes: l.totalSectors * SECTOR,
    directories: l.dirs.length,
    files: l.files.map((f) => ({ path: f.path, size: f.entry.size, extents: f.extents })),
    regions: l.regions,
    boot: {
      bios: l.bios ? { image: l.bios.path, lba: l.bios.extents[0].lba } : undefined,
      efi: l.efi
        ? { image: l.efi.node.path, lba: l.efi.node.extents[0].lba, loadSectors: l.efi.loadSectors }
        : undefined,
    },
    bootEntries: l.boot.map((b) => ({
      platform: b.platform,
      image: b.node ? b.node.path : `appended partition ${b.partition!.part.number}`,
      lba: b.lba,
      mediaType: b.mediaType,
      loadSectors: b.loadSectors,
    })),
  };
}
