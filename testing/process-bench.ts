/**
 * Whole-process benchmarking, as users run commands: wall time and peak RSS of a process
 * (GNU time's %M: the largest RSS of the process or any child it waited for), contenders run
 * in alternating order round after round, and the per-round (paired) ratios summarised as
 * median, min and max. Used by bench:iso, bench:fat and bench:startup.
 */
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/**
 * The CLI as installed users run it: compiled JS (`npm run build` first), no tsx.
 * BENCH_BIN runs another build instead (e.g. a worktree of an older commit, for before/after).
 */
export function bin(): string {
  const path = process.env.BENCH_BIN ?? join(ROOT, "bin/bootmedia.js");
  if (!existsSync(join(dirname(path), "../dist/cli/main.js")))
    throw new Error(`${path}: no compiled CLI beside it; run npm run build first`);
  return path;
}

export interface ProcessRun {
  ms: number;
  maxRssKiB: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` under /usr/bin/time; throws on a non-zero exit. */
export async function runProcess(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<ProcessRun> {
  const timeFile = join(tmpdir(), `bm-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const child = spawn("/usr/bin/time", ["-f", "%M", "-o", timeFile, cmd, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "",
    stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const ms = performance.now() - t0;
  const maxRssKiB = Number((await readFile(timeFile, "utf8")).trim().split("\n").pop());
  await rm(timeFile, { force: true });
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${code}\n${stderr}`);
  return { ms, maxRssKiB, stdout, stderr };
}

/** A shell command line, timed the same way (pipelines, `&& sync -d FILE`). */
export const runShell = (line: string, opts: { env?: Record<string, string> } = {}) =>
  runProcess("sh", ["-c", line], opts);

/** Sorted copy; the lower median (the less favourable one when the count is even). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** "median 0.42 (min 0.38, max 0.51)" */
export const spread = (xs: number[], digits = 2): string =>
  `median ${median(xs).toFixed(digits)} (min ${Math.min(...xs).toFixed(digits)}, max ${Math.max(...xs).toFixed(digits)})`;

/** Contender order for round r: rotated, so none always runs first (after a quiet disk) or last. */
export function rotation<T>(items: T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** `timing <phase> <ms> ms` lines (BOOTMEDIA_TIMINGS=1) of one run, by phase. */
export function parseTimings(stderr: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of stderr.matchAll(/^timing (.+) ([\d.]+) ms$/gm)) out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  return out;
}

/** Per phase, the median over runs, in the order phases first appeared. */
export function medianTimings(runs: Map<string, number>[]): [string, number][] {
  const phases: string[] = [];
  for (const r of runs) for (const k of r.keys()) if (!phases.includes(k)) phases.push(k);
  return phases.map((p) => [p, median(runs.map((r) => r.get(p) ?? 0))]);
}

/** Reads the machine's load, to print beside figures taken on a shared machine. */
export async function loadAverage(): Promise<string> {
  return (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
}

export const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

/** Argument `--rounds N` (default `fallback`). */
export function roundsArg(fallback: number): number {
  const i = process.argv.indexOf("--rounds");
  return i > 0 ? Number(process.argv[i + 1]) || fallback : fallback;
}
