/**
 * Builds the directory tree from a flat entry list and gives every node its three names
 * (ISO 9660, Joliet, Rock Ridge). Directory order here is what all later steps follow, so
 * the same entries always give the same image.
 */
import { BootmediaError } from "../../base/errors.ts";
import { splitTreePath, type TreeEntry, type TreeFile } from "../../base/tree.ts";
import { compareIsoKeys, encodeUcs2, isoSortKey, mapIsoName, mapJolietName, RR_MAX_BYTES } from "./names.ts";
import type { SystemUse } from "./susp.ts";
import type { IsoExtent } from "./types.ts";
import "./codes.ts";

interface NodeBase {
  name: string;
  path: string;
  mode: number;
  parent: DirNode | null;
  isoId: string;
  /** `isoId` as the bytes of its records. */
  isoIdBytes: Buffer;
  jolietId: Buffer;
  /** System use of the node's record(s) in its parent's primary directory. */
  su: SystemUse[];
}

export interface FileNode extends NodeBase {
  kind: "file";
  entry: TreeFile;
  extents: IsoExtent[];
}

export interface DirNode extends NodeBase {
  kind: "dir";
  children: Map<string, Node>;
  /** Children in ECMA-119 §9.3 order, and in Joliet (UCS-2 byte) order. */
  isoOrder: Node[];
  jolietOrder: Node[];
  /** 1-based path table numbers of the primary and Joliet trees. */
  number: number;
  jNumber: number;
  lba: number;
  size: number;
  jLba: number;
  jSize: number;
  selfSu: SystemUse | null;
  parentSu: SystemUse | null;
}

export type Node = FileNode | DirNode;

const NO_BYTES = Buffer.alloc(0);

function createDir(name: string, path: string, parent: DirNode | null, mode = 0o755): DirNode {
  return {
    kind: "dir",
    name,
    path,
    mode,
    parent,
    isoId: "",
    isoIdBytes: NO_BYTES,
    jolietId: NO_BYTES,
    su: [],
    children: new Map(),
    isoOrder: [],
    jolietOrder: [],
    number: 0,
    jNumber: 0,
    lba: 0,
    size: 0,
    jLba: 0,
    jSize: 0,
    selfSu: null,
    parentSu: null,
  };
}

function splitPath(path: string): string[] {
  try {
    return splitTreePath(path);
  } catch (e) {
    throw new BootmediaError("BM3104", (e as Error).message, { where: path });
  }
}

/** Turns entries into a rooted tree; parents are implied, conflicts are BM3103. */
export function buildTree(entries: readonly TreeEntry[]): DirNode {
  const root = createDir("", "", null);
  for (const entry of entries) {
    const parts = splitPath(entry.path);
    let dir = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = dir.children.get(parts[i]);
      if (next?.kind === "file")
        throw new BootmediaError("BM3103", `${next.path} is a file and also a folder of ${entry.path}`, {
          where: entry.path,
        });
      dir = next ?? setChild(dir, createDir(parts[i], parts.slice(0, i + 1).join("/"), dir));
    }
    const name = parts[parts.length - 1];
    if (Buffer.byteLength(name, "utf8") > RR_MAX_BYTES)
      throw new BootmediaError("BM3107", `name longer than ${RR_MAX_BYTES} bytes: ${name}`, { where: entry.path });
    const existing = dir.children.get(name);
    if (entry.type === "dir") {
      if (existing?.kind === "file")
        throw new BootmediaError("BM3103", `${entry.path} is both a file and a folder`, { where: entry.path });
      const node = existing ?? setChild(dir, createDir(name, entry.path, dir));
      if (entry.mode !== undefined) node.mode = entry.mode & 0o7777;
    } else {
      if (existing) throw new BootmediaError("BM3103", `${entry.path} appears twice`, { where: entry.path });
      if (!Number.isSafeInteger(entry.size) || entry.size < 0)
        throw new BootmediaError("BM3104", `invalid size ${entry.size}`, { where: entry.path });
      setChild(dir, {
        kind: "file",
        name,
        path: entry.path,
        mode: (entry.mode ?? 0o644) & 0o7777,
        parent: dir,
        isoId: "",
        isoIdBytes: NO_BYTES,
        jolietId: NO_BYTES,
        su: [],
        entry,
        extents: [],
      });
    }
  }
  return root;
}

function setChild<N extends Node>(dir: DirNode, node: N): N {
  dir.children.set(node.name, node);
  return node;
}

/** Assigns ISO and Joliet names in every folder and sorts children for both trees. */
export function nameTree(root: DirNode): void {
  for (const dir of walkDirs(root)) {
    // Visit in real-name byte (code point) order so mangling suffixes are deterministic.
    const kids = [...dir.children.values()].sort((a, b) => compareCodePoints(a.name, b.name));
    const taken = new Set<string>();
    const joliet = new Map<string, Node>();
    for (const kid of kids) {
      kid.isoId = mapIsoName(kid.name, kid.kind === "dir", taken);
      kid.isoIdBytes = Buffer.from(kid.isoId, "latin1");
      const j = mapJolietName(kid.name);
      const other = joliet.get(j);
      if (other) {
        throw new BootmediaError(
          "BM3102",
          `${other.path} and ${kid.path} both map to the Joliet name ${JSON.stringify(j)}`,
          { where: kid.path },
        );
      }
      joliet.set(j, kid);
      kid.jolietId = encodeUcs2(j);
    }
    dir.isoOrder = sortBy(kids, (k) => isoSortKey(k.isoId), compareIsoKeys);
    // Joliet names are BMP only: their UCS-2 big-endian bytes sort as their UTF-16 units do.
    dir.jolietOrder = [...joliet].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, kid]) => kid);
  }
}

/**
 * Orders strings by code point (= UTF-8 byte order) without encoding them: UTF-16 unit order
 * differs only where a surrogate meets a unit of U+E000 and above (the ICU fix-up).
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Sorts by a key computed once per item (not once per comparison). */
function sortBy<T, K>(items: T[], key: (item: T) => K, compare: (a: K, b: K) => number): T[] {
  return items
    .map((item) => ({ item, k: key(item) }))
    .sort((a, b) => compare(a.k, b.k))
    .map((x) => x.item);
}

/** Folders breadth-first in path-table order (ECMA-119 §9.4.1: by level, parent number, identifier). */
export function walkDirs(root: DirNode, order: "iso" | "joliet" | "names" = "names"): DirNode[] {
  const out: DirNode[] = [root];
  for (let i = 0; i < out.length; i++) {
    const d = out[i];
    const kids = order === "iso" ? d.isoOrder : order === "joliet" ? d.jolietOrder : [...d.children.values()];
    for (const k of kids) if (k.kind === "dir") out.push(k);
  }
  return out;
}

/** Files depth-first in primary directory order: the order their data is laid out. */
export function listFiles(root: DirNode): FileNode[] {
  const out: FileNode[] = [];
  const visit = (d: DirNode) => {
    for (const k of d.isoOrder) if (k.kind === "file") out.push(k);
    for (const k of d.isoOrder) if (k.kind === "dir") visit(k);
  };
  visit(root);
  return out;
}
