/**
 * planFat: turns a tree into a FAT volume plan (geometry, short names, contiguous cluster
 * allocation) and refuses, with coded errors, anything FAT cannot hold — before any byte
 * is written.
 */
import { createHash } from "node:crypto";
import { BootmediaError } from "../../base/errors.ts";
import { splitTreePath, type FileSource, type TreeEntry } from "../../base/tree.ts";
import { defaultFatTypes, layoutGeometry, type FatGeometry } from "./geometry.ts";
import { checkLongName, countLfnEntries, makeShortNames, makeVolumeLabel } from "./names.ts";
import { DIR_ENTRY_BYTES, MAX_DIR_ENTRIES, MAX_FAT_FILE_BYTES, SECTOR_BYTES, type FatType } from "./structures.ts";
import "./codes.ts";

export interface FatOptions {
  label?: string;
  /** Seconds since 1970 (callers pass SOURCE_DATE_EPOCH): every timestamp and the serial derive from it. */
  sourceDateEpoch: number;
  /** Volume size; a multiple of 512. Left out: sized from the content. */
  sizeBytes?: number;
  fatType?: FatType;
  /** Bytes of file data written so far, of the total. */
  onProgress?: (done: number, total: number) => void;
}

interface PlanNodeBase {
  name: string;
  path: string;
  /** 8.3 name, 11 bytes (spec §6.1), and whether LFN entries carry the long name. */
  shortName: string;
  needsLfn: boolean;
  /** First cluster, 0 for empty files (spec §6: DIR_FstClus is 0 for an empty file). */
  firstCluster: number;
  clusters: number;
}
export interface PlanFile extends PlanNodeBase {
  kind: "file";
  size: number;
  source: FileSource;
}
export interface PlanDir extends PlanNodeBase {
  kind: "dir";
  children: PlanNode[];
}
export type PlanNode = PlanFile | PlanDir;

export interface FatPlan extends FatGeometry {
  totalBytes: number;
  /** Label as stored (11 bytes, upper case), or undefined for "NO NAME". */
  label?: string;
  volumeId: number;
  sourceDateEpoch: number;
  root: PlanDir;
  /** Directories in allocation order (root first); they follow the files on disk. */
  dirs: PlanDir[];
  files: PlanFile[];
  fileBytes: number;
  usedClusters: number;
  freeClusters: number;
}

const MIB = 2 ** 20;

/** Builds the directory tree; parents may be implied by paths. */
function buildTree(entries: TreeEntry[]): PlanDir {
  const root: PlanDir = {
    kind: "dir",
    name: "",
    path: "",
    shortName: "",
    needsLfn: false,
    firstCluster: 0,
    clusters: 0,
    children: [],
  };
  const byPath = new Map<string, PlanNode>([["", root]]);
  const ensureDir = (parts: string[]): PlanDir => {
    let dir = root;
    let path = "";
    for (let i = 0; i < parts.length; i++) {
      path = i === 0 ? parts[0] : `${path}/${parts[i]}`;
      let node = byPath.get(path);
      if (!node) {
        checkLongName(parts[i], path);
        node = {
          kind: "dir",
          name: parts[i],
          path,
          shortName: "",
          needsLfn: false,
          firstCluster: 0,
          clusters: 0,
          children: [],
        };
        byPath.set(path, node);
        dir.children.push(node);
      } else if (node.kind !== "dir") {
        throw new BootmediaError("BM3207", `${path} is both a file and a folder in the tree.`, { where: path });
      }
      dir = node;
    }
    return dir;
  };
  for (const e of entries) {
    let parts: string[];
    try {
      parts = splitTreePath(e.path);
    } catch (cause) {
      throw new BootmediaError("BM3204", `The media path ${JSON.stringify(e.path)} is not a valid relative path.`, {
        where: e.path,
        cause,
      });
    }
    if (e.type === "dir") {
      ensureDir(parts);
      continue;
    }
    const parent = ensureDir(parts.slice(0, -1));
    if (byPath.has(e.path))
      throw new BootmediaError("BM3207", `${e.path} appears twice in the tree.`, { where: e.path });
    const name = parts[parts.length - 1];
    checkLongName(name, e.path);
    if (e.size >= MAX_FAT_FILE_BYTES + 1) {
      throw new BootmediaError(
        "BM3201",
        `${e.path} is ${e.size} bytes (${(e.size / 2 ** 30).toFixed(2)} GiB): FAT32 cannot store a file of 4 GiB (4294967296 bytes) or more.`,
        { where: e.path },
      );
    }
    const file: PlanFile = {
      kind: "file",
      name,
      path: e.path,
      size: e.size,
      source: e.source,
      shortName: "",
      needsLfn: false,
      firstCluster: 0,
      clusters: 0,
    };
    byPath.set(e.path, file);
    parent.children.push(file);
  }
  return root;
}

/** Sorts children by code point and gives them short names; rejects case-only twins. */
function nameChildren(dir: PlanDir): void {
  dir.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const seen = new Map<string, string>();
  for (const c of dir.children) {
    const key = c.name.toUpperCase();
    const other = seen.get(key);
    if (other !== undefined) {
      throw new BootmediaError(
        "BM3205",
        `${JSON.stringify(other)} and ${JSON.stringify(c.name)} in /${dir.path} differ only in case; FAT sees one name.`,
        { where: c.path },
      );
    }
    seen.set(key, c.name);
  }
  const shorts = makeShortNames(
    dir.children.map((c) => c.name),
    "/" + dir.path,
  );
  dir.children.forEach((c, i) => {
    c.shortName = shorts[i].raw;
    c.needsLfn = shorts[i].needsLfn;
  });
  for (const c of dir.children) if (c.kind === "dir") nameChildren(c);
}

/** 32-byte entries a directory holds: dot entries, the root's label, LFN + short entry per child. */
function countDirEntries(dir: PlanDir, hasLabel: boolean): number {
  let n = dir.path === "" ? (hasLabel ? 1 : 0) : 2;
  for (const c of dir.children) n += 1 + (c.needsLfn ? countLfnEntries(c.name) : 0);
  return n;
}

/** Refuses a folder FAT cannot hold: more than 65,536 32-byte entries, long-name entries included (spec §6). */
function checkDirEntries(dirs: PlanDir[], hasLabel: boolean): void {
  for (const d of dirs) {
    const n = countDirEntries(d, hasLabel);
    if (n > MAX_DIR_ENTRIES) {
      throw new BootmediaError(
        "BM3210",
        `The folder /${d.path} needs ${n} directory entries (${d.children.length} names, long names take one entry per 13 characters more); FAT allows ${MAX_DIR_ENTRIES}.`,
        { where: "/" + d.path },
      );
    }
  }
}

function listDirs(root: PlanDir): PlanDir[] {
  const out: PlanDir[] = [];
  const queue = [root];
  while (queue.length) {
    const d = queue.shift()!;
    out.push(d);
    for (const c of d.children) if (c.kind === "dir") queue.push(c);
  }
  return out;
}

function listFiles(dir: PlanDir, out: PlanFile[] = []): PlanFile[] {
  for (const c of dir.children) {
    if (c.kind === "file") out.push(c);
    else listFiles(c, out);
  }
  return out;
}

/** Clusters the content needs with a given cluster size (FAT32 root included). */
function countClusters(
  dirs: PlanDir[],
  files: PlanFile[],
  clusterBytes: number,
  fatType: FatType,
  hasLabel: boolean,
): number {
  let n = 0;
  for (const d of dirs) {
    if (d.path === "" && fatType !== 32) continue;
    n += Math.max(1, Math.ceil((countDirEntries(d, hasLabel) * DIR_ENTRY_BYTES) / clusterBytes));
  }
  for (const f of files) n += Math.ceil(f.size / clusterBytes);
  return n;
}

/**
 * Gives every non-empty file, then every directory, its contiguous cluster run. Files come
 * first, in tree-walk order, so their places follow from sizes and paths alone (see
 * guessFatData): a writer can start copying them before the tree is named.
 */
function allocateClusters(dirs: PlanDir[], files: PlanFile[], g: FatGeometry, hasLabel: boolean): number {
  let next = allocateFiles(files, g.clusterBytes);
  for (const d of dirs) {
    if (d.path === "" && g.fatType !== 32) continue;
    d.clusters = Math.max(1, Math.ceil((countDirEntries(d, hasLabel) * DIR_ENTRY_BYTES) / g.clusterBytes));
    d.firstCluster = next;
    next += d.clusters;
  }
  return next - 2;
}

/** Contiguous runs from cluster 2 in list order; returns the next free cluster. */
function allocateFiles(
  files: { size: number; firstCluster: number; clusters: number }[],
  clusterBytes: number,
): number {
  let next = 2;
  for (const f of files) {
    f.clusters = Math.ceil(f.size / clusterBytes);
    f.firstCluster = f.clusters ? next : 0;
    next += f.clusters;
  }
  return next;
}

/** Sizing a volume for its content: tries from contentSize, growing by 5 % a step. */
const GROW_STEPS = 400;
const grow = (size: number) => Math.ceil((size * 1.05) / MIB) * MIB;

/** Volume size for content without a given size: content + FAT overhead + slack, whole MiB. */
function contentSize(fileBytes: number, files: number, dirs: number): number {
  return Math.ceil((fileBytes * 1.02 + (files + dirs) * 4096 + MIB) / MIB) * MIB;
}

/** Where files go, guessed before planning: the same sizes and paths give planFat the same places. */
interface FatDataGuess {
  geometry: FatGeometry;
  /** Files in the order planFat lists them. */
  files: { source: FileSource; size: number; firstCluster: number; clusters: number }[];
}

/**
 * Places the files of a FAT32 volume from their paths and sizes alone, without naming the
 * tree. Undefined when the FAT type depends on the content (small volumes) or the input is
 * malformed (planFat reports it). Writers start copying from this guess and check it against
 * the plan; a volume that has to grow after all makes the guess wrong, and the copy restarts.
 */
export function guessFatData(entries: TreeEntry[], opts: Omit<FatOptions, "onProgress">): FatDataGuess | undefined {
  // The tree walk visits each folder's children by name, folders and files alike: "\0" for
  // "/" makes plain string order that walk order.
  const keyed: { key: string; source: FileSource; size: number; firstCluster: number; clusters: number }[] = [];
  const dirs = new Set<string>();
  try {
    for (const e of entries) {
      const parts = splitTreePath(e.path);
      const key = parts.join("\0");
      // Every folder on the way: the key up to each separator.
      for (let at = key.indexOf("\0"); at >= 0; at = key.indexOf("\0", at + 1)) dirs.add(key.slice(0, at));
      if (e.type === "dir") dirs.add(key);
      else keyed.push({ key, source: e.source, size: e.size, firstCluster: 0, clusters: 0 });
    }
  } catch {
    return undefined;
  }
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // Files FAT cannot hold are planFat's to refuse, before any copy.
  if (keyed.some((f) => f.size > MAX_FAT_FILE_BYTES)) return undefined;
  if (
    mayOverfillFolder(
      keyed.map((f) => f.key),
      dirs,
    )
  )
    return undefined;
  // As planFat sizes a volume (folders aside: when they make it grow further, the guess is wrong).
  let size =
    opts.sizeBytes ??
    contentSize(
      keyed.reduce((n, f) => n + f.size, 0),
      keyed.length,
      dirs.size + 1,
    );
  let geometry: FatGeometry | undefined;
  for (let i = 0; i < GROW_STEPS && !geometry; i++) {
    if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR_BYTES !== 0) return undefined;
    const types = opts.fatType ? [opts.fatType] : defaultFatTypes(size);
    if (types.length !== 1 || types[0] !== 32) return undefined;
    const g = layoutGeometry(32, size / SECTOR_BYTES, 0);
    if (g && allocateFiles(keyed, g.clusterBytes) - 2 <= g.clusterCount) geometry = g;
    else if (opts.sizeBytes !== undefined)
      return undefined; // content past the volume's end: planFat refuses it
    else size = grow(size);
  }
  if (!geometry) return undefined;
  return { geometry, files: keyed };
}

/**
 * True when some folder might pass FAT's 65,536 entries (counting every name as long): then
 * nothing is copied before planFat has counted exactly, and refused with BM3210.
 */
function mayOverfillFolder(fileKeys: string[], dirKeys: Set<string>): boolean {
  const entries = new Map<string, number>();
  for (const key of [...fileKeys, ...dirKeys]) {
    const at = key.lastIndexOf("\0");
    const parent = at < 0 ? "" : key.slice(0, at);
    entries.set(parent, (entries.get(parent) ?? 2) + 1 + countLfnEntries(key.slice(at + 1)));
  }
  for (const n of entries.values()) if (n > MAX_DIR_ENTRIES) return true;
  return false;
}

function chooseGeometry(
  totalSectors: number,
  types: FatType[],
  rootEntries: number,
  fits: (g: FatGeometry) => boolean,
): FatGeometry | undefined {
  let any: FatGeometry | undefined;
  for (const t of types) {
    const g = layoutGeometry(t, totalSectors, rootEntries);
    if (g && fits(g)) return g;
    any ??= g;
  }
  return any;
}

/** Volume id from the epoch and label: reproducible, yet differs between differently labelled builds. */
function deriveVolumeId(epoch: number, label: string | undefined): number {
  return createHash("sha256")
    .update(`bootmedia-fat:${epoch}:${label ?? ""}`)
    .digest()
    .readUInt32LE(0);
}

export function planFat(entries: TreeEntry[], opts: Omit<FatOptions, "onProgress">): FatPlan {
  const label = makeVolumeLabel(opts.label);
  const root = buildTree(entries);
  nameChildren(root);
  const dirs = listDirs(root);
  checkDirEntries(dirs, label !== undefined);
  const files = listFiles(root);
  const rootEntries = countDirEntries(root, label !== undefined);
  const fileBytes = files.reduce((s, f) => s + f.size, 0);
  const need = (g: FatGeometry) => countClusters(dirs, files, g.clusterBytes, g.fatType, label !== undefined);
  const fits = (g: FatGeometry) => need(g) <= g.clusterCount;

  let geometry: FatGeometry | undefined;
  if (opts.sizeBytes !== undefined) {
    const size = opts.sizeBytes;
    if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR_BYTES !== 0) {
      throw new BootmediaError("BM3206", `A FAT image size must be a positive multiple of 512 bytes; ${size} is not.`);
    }
    const types = opts.fatType ? [opts.fatType] : defaultFatTypes(size);
    geometry = chooseGeometry(size / SECTOR_BYTES, types, rootEntries, fits);
    if (!geometry) {
      throw new BootmediaError(
        "BM3206",
        `${size} bytes cannot hold a ${types.map((t) => `FAT${t}`).join(" or ")} file system.`,
      );
    }
    if (!fits(geometry)) {
      const needBytes = need(geometry) * geometry.clusterBytes;
      const avail = geometry.clusterCount * geometry.clusterBytes;
      throw new BootmediaError(
        "BM3202",
        `The content needs ${needBytes} bytes on FAT${geometry.fatType} (${fileBytes} bytes of files plus folders and cluster slack) but an image of ${size} bytes holds only ${avail} bytes of data.`,
      );
    }
  } else {
    // Content + FAT overhead + slack, rounded up to whole MiB; grown until a geometry holds it.
    let size = contentSize(fileBytes, files.length, dirs.length);
    for (let i = 0; i < GROW_STEPS && !geometry; i++) {
      const types = opts.fatType ? [opts.fatType] : defaultFatTypes(size);
      const g = chooseGeometry(size / SECTOR_BYTES, types, rootEntries, fits);
      if (g && fits(g)) geometry = g;
      else size = grow(size);
    }
    if (!geometry) {
      throw new BootmediaError("BM3206", `No FAT${opts.fatType ?? ""} volume can hold ${fileBytes} bytes of content.`);
    }
  }
  const usedClusters = allocateClusters(dirs, files, geometry, label !== undefined);
  return {
    ...geometry,
    totalBytes: geometry.totalSectors * SECTOR_BYTES,
    label,
    volumeId: deriveVolumeId(opts.sourceDateEpoch, label),
    sourceDateEpoch: opts.sourceDateEpoch,
    root,
    dirs,
    files,
    fileBytes,
    usedClusters,
    freeClusters: geometry.clusterCount - usedClusters,
  };
}
