/**
 * Test helpers: a seeded random tree generator and the independent oracles (xorriso,
 * isoinfo) the tests and the soak script check our images with.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { TreeEntry, TreeFile } from "../../../base/tree.ts";
import { mapJolietName } from "../names.ts";
import { makeRandom as createRandom } from "../../testing/random.ts";

export { makeRandom as createRandom } from "../../testing/random.ts";

const ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyz",
  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  " -_.,+=()[]{}#@!~'",
  "éüßçñøåæ",
  "中文字符目录",
  "русскийтекст",
  "ΑΒΓδεζ",
  "😀🚀",
];

export interface RandomTreeOptions {
  files: number;
  maxSize?: number;
  /** Add a chain of nested folders this deep (ECMA-119 allows 8 levels). */
  deepChain?: number;
}

interface GeneratedTree {
  entries: TreeEntry[];
  /** Expected bytes per media path. */
  contents: Map<string, Buffer>;
  dirs: Set<string>;
  cleanup: () => Promise<void>;
}

function randomName(rnd: () => number): string {
  const long = rnd() < 0.05;
  const len = long ? 60 + Math.floor(rnd() * 60) : 1 + Math.floor(rnd() * 20);
  let s = "";
  for (let i = 0; i < len; i++) {
    const abc = [...ALPHABETS[Math.floor(rnd() * (rnd() < 0.7 ? 3 : ALPHABETS.length))]];
    s += abc[Math.floor(rnd() * abc.length)];
  }
  while (Buffer.byteLength(s) > 255) s = [...s].slice(0, -1).join("");
  return s === "." || s === ".." ? "dot" : s;
}

/** A random tree: folders and files with Unicode/long names, empty files, byte and disk sources. */
export async function generateTree(seed: number, opts: RandomTreeOptions): Promise<GeneratedTree> {
  const rnd = createRandom(seed);
  const dir = await mkdtemp(join(tmpdir(), "bm-iso-src-"));
  const entries: TreeEntry[] = [];
  const contents = new Map<string, Buffer>();
  const dirs = new Set<string>([""]);
  const jolietNames = new Map<string, Set<string>>();
  const used = new Set<string>();
  const freshName = (parent: string): string => {
    const taken = jolietNames.get(parent) ?? new Set<string>();
    jolietNames.set(parent, taken);
    for (;;) {
      const name = randomName(rnd);
      // Joliet collisions are a tested error; random trees stay clear of them.
      const j = mapJolietName(name);
      if (!taken.has(j) && !used.has(parent ? `${parent}/${name}` : name)) {
        taken.add(j);
        used.add(parent ? `${parent}/${name}` : name);
        return name;
      }
    }
  };
  const pickDir = () => [...dirs][Math.floor(rnd() * dirs.size)];
  const addDir = (parent: string) => {
    const p = parent ? `${parent}/${freshName(parent)}` : freshName(parent);
    dirs.add(p);
    entries.push({ type: "dir", path: p, mode: 0o755 });
    return p;
  };
  for (let i = 0; i < Math.max(1, opts.files / 8); i++) addDir(pickDir());
  if (opts.deepChain) {
    let p = pickDir();
    for (let i = 0; i < opts.deepChain; i++) p = addDir(p);
  }
  const maxSize = opts.maxSize ?? 20000;
  for (let i = 0; i < opts.files; i++) {
    const parent = pickDir();
    const path = parent ? `${parent}/${freshName(parent)}` : freshName(parent);
    const size = rnd() < 0.15 ? 0 : Math.floor(rnd() ** 3 * maxSize);
    const data = Buffer.alloc(size);
    let b = 0;
    for (; b + 4 <= size; b += 4) data.writeUInt32LE((rnd() * 0xffffffff) >>> 0, b);
    for (; b < size; b++) data[b] = (rnd() * 256) | 0;
    contents.set(path, data);
    let file: TreeFile;
    if (rnd() < 0.5) {
      file = { type: "file", path, size, source: { kind: "bytes", data } };
    } else {
      const src = join(dir, `f${i}`);
      await writeFile(src, data);
      file = { type: "file", path, size, source: { kind: "file", path: src }, mode: rnd() < 0.2 ? 0o755 : 0o644 };
    }
    entries.push(file);
  }
  return { entries, contents, dirs, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Extracts the whole image with xorriso's osirrox into a fresh temp folder. */
export async function extractWithXorriso(iso: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "bm-iso-x-"));
  await execa("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", join(dir, "root")]);
  return { dir: join(dir, "root"), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Every path under `root` (relative, "/"-separated), folders with a trailing "/". */
async function listFolder(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(`${rel}/`, ...(await listFolder(root, rel)));
    else out.push(rel);
  }
  return out;
}

/** Compares an extracted folder with the generated tree; returns the differences (empty when equal). */
export async function compareExtracted(root: string, tree: GeneratedTree): Promise<string[]> {
  const problems: string[] = [];
  const expected = new Set<string>([...tree.contents.keys(), ...[...tree.dirs].filter((d) => d).map((d) => `${d}/`)]);
  const got = new Set(await listFolder(root));
  for (const p of expected) if (!got.has(p)) problems.push(`missing ${p}`);
  for (const p of got) if (!expected.has(p)) problems.push(`unexpected ${p}`);
  for (const [p, data] of tree.contents) {
    if (!got.has(p)) continue;
    const st = await stat(join(root, p));
    if (st.size !== data.length || sha256(await readFile(join(root, p))) !== sha256(data))
      problems.push(`content differs: ${p}`);
  }
  return problems;
}

/**
 * `isoinfo -f` listing in a name view: "-R" Rock Ridge (UTF-8 bytes), "-J" Joliet (isoinfo
 * knows no UTF-8 output charset, so Joliet names come back in ISO 8859-1), "" plain ISO 9660.
 */
export async function isoinfoList(iso: string, view: "-R" | "-J" | ""): Promise<string[]> {
  const args = ["-f", "-i", iso, ...(view === "-J" ? ["-J", "-j", "iso8859-1"] : view ? [view] : [])];
  const { stdout } = await execa("isoinfo", args, { encoding: "buffer" });
  const text = Buffer.from(stdout).toString(view === "-J" ? "latin1" : "utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/^\//, ""));
}

/** xorriso's report of a part of the image (e.g. "-report_el_torito", "-report_system_area"). */
export async function xorrisoReport(iso: string, report: "-report_el_torito" | "-report_system_area"): Promise<string> {
  const { stdout, stderr } = await execa("xorriso", ["-indev", iso, report, "plain"]);
  return `${stdout}\n${stderr}`;
}
