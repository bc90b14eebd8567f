/**
 * Seeded random trees for property tests and the soak: Unicode long names, empty files,
 * deep folders, many small files, case variants in sibling folders, and families of long
 * names that share a prefix so short names need "~N" tails beyond ~9 and ~99.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TreeEntry } from "../../../base/tree.ts";
import { makeRandom } from "../../testing/random.ts";

export { makeRandom } from "../../testing/random.ts";

const ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyz",
  "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
  "0123456789",
  " -_+,;=[]()!#$%&'@^`{}~.",
  "äöüßéèêñçøåÆŒ",
  "日本語テスト中文",
  "αβγδεζηθ",
  "абвгдежз",
];

interface RandomTreeOptions {
  /** Upper bound for a file's size (most files are far smaller). */
  maxFileBytes?: number;
  maxFiles?: number;
}

interface RandomTree {
  entries: TreeEntry[];
  root: string;
  fileCount: number;
  totalBytes: number;
}

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

function makeName(rnd: () => number): string {
  const len = 1 + Math.floor(rnd() ** 2 * 60);
  let s = "";
  for (let i = 0; i < len; i++) s += pick(rnd, [...pick(rnd, ALPHABETS)]);
  return cleanName(s);
}

/** FAT drops leading spaces and trailing dots/spaces: never generate them. */
function cleanName(s: string): string {
  return s.replace(/^[ ]+/, "").replace(/[. ]+$/, "") || "x";
}

/** Writes a random tree under `root` (files on disk, some as in-memory bytes) and returns its entries. */
export async function generateRandomTree(
  seed: number,
  root: string,
  opts: RandomTreeOptions = {},
): Promise<RandomTree> {
  const rnd = makeRandom(seed);
  const maxFiles = opts.maxFiles ?? 60;
  const maxBytes = opts.maxFileBytes ?? 200_000;
  const entries: TreeEntry[] = [];
  const dirs: string[] = [""];
  const used = new Map<string, Set<string>>([["", new Set()]]);
  const claim = (dir: string, name: string): string | undefined => {
    const set = used.get(dir)!;
    if (set.has(name.toUpperCase())) return undefined; // FAT is case-insensitive: keep siblings distinct
    set.add(name.toUpperCase());
    return dir ? `${dir}/${name}` : name;
  };
  const addDir = (parent: string, name: string) => {
    const p = claim(parent, name);
    if (!p) return;
    dirs.push(p);
    used.set(p, new Set());
    entries.push({ type: "dir", path: p });
  };
  // A deep chain, and a pair of sibling folders holding the same names in different case.
  let deep = "";
  for (let d = 0, depth = 2 + Math.floor(rnd() * 10); d < depth; d++) {
    addDir(deep, cleanName(`level ${d} ${makeName(rnd)}`.slice(0, 40)));
    deep = dirs[dirs.length - 1];
  }
  addDir("", "Case A");
  addDir("", "Case B");
  for (let i = 0; i < 3 + Math.floor(rnd() * 10); i++) addDir(pick(rnd, dirs), makeName(rnd));
  let totalBytes = 0,
    fileCount = 0;
  const addFile = async (dir: string, name: string, size: number) => {
    const p = claim(dir, name);
    if (!p) return;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) data[i] = Math.floor(rnd() * 256); // sparse-ish but distinct
    if (size) data[size - 1] = fileCount & 0xff;
    if (rnd() < 0.3) {
      entries.push({ type: "file", path: p, size, source: { kind: "bytes", data } });
    } else {
      const onDisk = join(root, `f${fileCount}`);
      await writeFile(onDisk, data);
      entries.push({ type: "file", path: p, size, source: { kind: "file", path: onDisk } });
    }
    totalBytes += size;
    fileCount++;
  };
  await mkdir(root, { recursive: true });
  const caseName = makeName(rnd) + ".Txt";
  await addFile(dirs.find((d) => d.endsWith("Case A"))!, caseName, 3);
  await addFile(
    dirs.find((d) => d.endsWith("Case B"))!,
    caseName.toUpperCase() === caseName ? caseName + "x" : caseName.toLowerCase(),
    4,
  );
  // A family sharing a long prefix: ~1..~N short names.
  const family = 5 + Math.floor(rnd() * 120);
  const famDir = pick(rnd, dirs);
  for (let i = 0; i < family; i++) await addFile(famDir, `Report of the month ${i}.document`, Math.floor(rnd() * 100));
  for (let i = 0; i < maxFiles; i++) {
    const r = rnd();
    const size = r < 0.15 ? 0 : r < 0.8 ? Math.floor(rnd() * 5000) : Math.floor(rnd() * maxBytes);
    await addFile(pick(rnd, dirs), makeName(rnd), size);
  }
  return { entries, root, fileCount, totalBytes };
}
