/**
 * Independent oracles for FAT images (dosfstools, mtools) shared by the tests and the soak.
 * They never use our reader: a bug in it cannot hide a bug in the writer.
 */
import { execa } from "execa";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TreeEntry } from "../../../base/tree.ts";

const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: "1", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" };

function mtoolsImage(image: string, offset: number): string {
  return offset ? `${image}@@${offset}` : image;
}

/** `fsck.fat -n` (read-only); a volume inside a disk image is checked from a copy of its partition. */
export async function checkWithFsck(
  image: string,
  offset = 0,
  size?: number,
): Promise<{ ok: boolean; output: string }> {
  let target = image,
    tmp: string | undefined;
  if (offset) {
    tmp = await mkdtemp(join(tmpdir(), "bm-fsck-"));
    target = join(tmp, "part.img");
    await execa("dd", [
      `if=${image}`,
      `of=${target}`,
      "bs=1M",
      `skip=${offset}`,
      ...(size ? [`count=${size}`] : []),
      "iflag=skip_bytes,count_bytes",
      "status=none",
    ]);
  }
  try {
    const r = await execa("fsck.fat", ["-n", "-V", target], { reject: false, all: true });
    // fsck.fat exits 0 when clean; a repair proposal or warning shows as any other line.
    const expected = /^(fsck\.fat \d|Starting |Checking |Rechecking|.*: \d+ files, \d+\/\d+ clusters$)/;
    const unexpected = (r.all ?? "").split("\n").filter((l) => l && !expected.test(l));
    return { ok: r.exitCode === 0 && unexpected.length === 0, output: r.all ?? "" };
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

/** Every path mtools sees (`mdir -/ -b -a`): files as paths, folders with a trailing "/". */
export async function listWithMtools(image: string, offset = 0): Promise<string[]> {
  const r = await execa("mdir", ["-/", "-b", "-a", "-i", mtoolsImage(image, offset), "::"], { env: MTOOLS_ENV });
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/^::\//, ""));
}

/** Extracts the whole volume with `mcopy -s -n` into a fresh folder and returns it. */
export async function extractWithMtools(image: string, offset = 0): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bm-mcopy-"));
  const list = await listWithMtools(image, offset);
  if (list.length)
    await execa("mcopy", ["-s", "-n", "-i", mtoolsImage(image, offset), "::/*", dir + "/"], { env: MTOOLS_ENV });
  return dir;
}

/** Differences between a tree and what mtools extracted (names, sizes, bytes); empty when equal. */
export async function compareExtracted(entries: TreeEntry[], dir: string, listed: string[]): Promise<string[]> {
  const problems: string[] = [];
  const wantFiles = new Set<string>();
  for (const e of entries) {
    if (e.type !== "file") continue;
    wantFiles.add(e.path);
    let got: Buffer;
    try {
      got = await readFile(join(dir, e.path));
    } catch {
      problems.push(`missing ${e.path}`);
      continue;
    }
    const want = e.source.kind === "bytes" ? Buffer.from(e.source.data) : await readFile(e.source.path);
    if (!got.equals(want)) problems.push(`bytes differ: ${e.path} (${got.length} vs ${want.length})`);
  }
  const wantDirs = new Set<string>();
  for (const e of entries) {
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) wantDirs.add(parts.slice(0, i).join("/"));
    if (e.type === "dir") wantDirs.add(e.path);
  }
  for (const l of listed) {
    if (l.endsWith("/")) {
      if (!wantDirs.delete(l.slice(0, -1))) problems.push(`unexpected folder ${l}`);
    } else if (!wantFiles.delete(l)) problems.push(`unexpected file ${l}`);
  }
  for (const f of wantFiles) problems.push(`not listed by mdir: ${f}`);
  for (const d of wantDirs) problems.push(`folder not listed by mdir: ${d}`);
  return problems;
}
