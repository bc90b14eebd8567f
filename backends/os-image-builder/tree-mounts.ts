/**
 * A build killed inside mmdebstrap leaves /proc, /sys and /dev mounted in its tree; removing
 * the tree then fails (EBUSY) and so does every later build. Before a tree is removed, what is
 * still mounted under it is unmounted, deepest first.
 */
import { readFile, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { runProgram } from "../../core/program.ts";

/** Mount points at or under `dir` in a mounts table (/proc/self/mounts' text), deepest first. */
export function mountsUnder(mountsText: string, dir: string): string[] {
  const root = resolve(dir);
  // The table escapes space, tab, newline and backslash as octal (\040, \011, \012, \134).
  const unescape = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return mountsText
    .split("\n")
    .map((line) => line.split(" ")[1])
    .filter((m): m is string => m !== undefined && m !== "")
    .map(unescape)
    .filter((m) => m === root || m.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/** Removes a build tree, first unmounting (lazily) whatever a killed build left mounted in it. */
export async function removeTree(dir: string): Promise<void> {
  const mounts = mountsUnder(await readFile("/proc/self/mounts", "utf8").catch(() => ""), dir);
  for (const m of mounts) await runProgram("umount", ["-l", m], { reject: false });
  await rm(dir, { recursive: true, force: true });
}
