/**
 * Benchmark, as users run it: `bootmedia image iso <tree> -o out.iso` as a whole process
 * (compiled CLI, start-up included) against `xorriso -as mkisofs -J -R` and against `cat` of
 * the same bytes, on a >= 1 GiB tree (generated once under $BENCH_DIR or /tmp/bootmedia-bench).
 * Every contender pays the same durability: bootmedia fsyncs its output before renaming it
 * into place, the others end with `sync -d` of their output. Rounds alternate the order;
 * printed are the per-round (paired) ratios as median, min and max, each process's peak RSS,
 * and where bootmedia's time goes (BOOTMEDIA_TIMINGS=1 phase lines, median per phase).
 * Beside them, the in-process writer figures as before (no process start, no fsync) and its
 * peak RSS on a 5 GiB tree.
 * Run: npm run build && npm run bench:iso [-- --rounds 7]
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import {
  bin,
  loadAverage,
  medianTimings,
  mib,
  parseTimings,
  rotation,
  roundsArg,
  runProcess,
  runShell,
  sec,
  spread,
  median,
  type ProcessRun,
} from "../../../testing/process-bench.ts";

const BASE = process.env.BENCH_DIR ?? "/tmp/bootmedia-bench";
const TREE = join(BASE, "tree-1g");
const BIG = join(BASE, "tree-5g");
const MiB = 2 ** 20;

async function ensureTree(): Promise<void> {
  if (existsSync(join(TREE, ".done"))) return;
  await rm(TREE, { recursive: true, force: true });
  const chunk = randomBytes(MiB);
  for (let i = 0; i < 8; i++) {
    await mkdir(join(TREE, `large${i}`), { recursive: true });
    const fh = await open(join(TREE, `large${i}`, "payload.wim"), "w");
    for (let m = 0; m < 110; m++) {
      chunk.writeUInt32LE(i * 1000 + m, 0);
      await fh.write(chunk);
    }
    await fh.close();
  }
  for (let d = 0; d < 20; d++) {
    await mkdir(join(TREE, "drivers", `pkg${d}`), { recursive: true });
    for (let f = 0; f < 100; f++)
      await writeFile(join(TREE, "drivers", `pkg${d}`, `file${f}.sys`), chunk.subarray(0, 64 * 1024 + f * 1000));
  }
  await writeFile(join(TREE, ".done"), "");
}

async function ensureBigTree(): Promise<void> {
  await mkdir(BIG, { recursive: true });
  // Sparse: reading it costs no disk, so the figure is the writer's own memory use.
  await execa("truncate", ["-s", String(5 * 1024 * MiB), join(BIG, "install.wim")]);
}

async function runWriter(
  tree: string,
  out: string,
): Promise<{ ms: number; cpuMs: number; bytes: number; maxRssKiB: number }> {
  const { stdout } = await execa("npx", ["tsx", join(import.meta.dirname, "child.ts"), tree, out]);
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

/**
 * Every contender starts alike: no output file to truncate (O_TRUNC of a 1 GiB file with
 * pages under writeback costs seconds and was charged to whoever ran second) and no dirty
 * pages of the previous contender still being flushed.
 */
async function settleDisk(out: string): Promise<void> {
  await rm(out, { force: true });
  await execa("sync");
}

const ROUNDS = roundsArg(7);

await ensureTree();
const out = join(BASE, "out.iso");
const treeBytes = Number((await execa("du", ["-sb", TREE])).stdout.split("\t")[0]);
// Warm the page cache once so every contender reads from memory.
await execa("sh", ["-c", `find ${TREE} -type f -print0 | xargs -0 cat > /dev/null`]);
const mbps = (bytes: number, ms: number) => (bytes / MiB / (ms / 1000)).toFixed(0);

type Name = "cat + sync" | "xorriso + sync" | "bootmedia image iso";
const contenders: Record<Name, () => Promise<ProcessRun>> = {
  "cat + sync": () => runShell(`find ${TREE} -type f -print0 | xargs -0 cat > ${out} && sync -d ${out}`),
  "xorriso + sync": () => runShell(`xorriso -as mkisofs -J -R -quiet -o ${out} ${TREE} 2>/dev/null && sync -d ${out}`),
  "bootmedia image iso": () =>
    runProcess("node", [bin(), "image", "iso", TREE, "-o", out], { env: { BOOTMEDIA_TIMINGS: "1" } }),
};
const names = Object.keys(contenders) as Name[];
const runs = new Map<Name, ProcessRun[]>(names.map((n) => [n, []]));
console.log(
  `whole process, ${ROUNDS} alternating rounds, load average before: ${await loadAverage()} (shared machine, 2 cores)`,
);
for (let r = 0; r < ROUNDS; r++) {
  const line: string[] = [];
  for (const name of rotation(names, r)) {
    await settleDisk(out);
    const run = await contenders[name]();
    runs.get(name)!.push(run);
    line.push(`${name} ${sec(run.ms)} ${mib(run.maxRssKiB)}`);
  }
  await rm(out, { force: true });
  const [c, x, o] = names.map((n) => runs.get(n)![r].ms);
  console.log(
    `round ${r + 1}: ${line.join(", ")}; bootmedia/xorriso ${(o / x).toFixed(2)}, bootmedia/cat ${(o / c).toFixed(2)}`,
  );
}
const times = (n: Name) => runs.get(n)!.map((x) => x.ms);
const ours = times("bootmedia image iso");
const vsXorriso = ours.map((o, i) => o / times("xorriso + sync")[i]);
const vsCat = ours.map((o, i) => o / times("cat + sync")[i]);
console.log(`\ntree: ${(treeBytes / MiB).toFixed(0)} MiB in ${TREE}; load average after: ${await loadAverage()}`);
for (const n of names) {
  const rss = runs.get(n)!.map((x) => x.maxRssKiB);
  console.log(
    `${n.padEnd(22)}: median ${sec(median(times(n)))} (min ${sec(Math.min(...times(n)))}), ${mbps(treeBytes, median(times(n)))} MiB/s, peak RSS ${mib(Math.max(...rss))} (median ${mib(median(rss))})`,
  );
}
console.log(`bootmedia / xorriso (paired): ${spread(vsXorriso)} (target <= 0.50)`);
console.log(`bootmedia / cat floor (paired): ${spread(vsCat)} (target <= 1.30)`);
console.log(
  `bootmedia peak RSS, whole process: ${mib(Math.max(...runs.get("bootmedia image iso")!.map((x) => x.maxRssKiB)))} worst round (target <= 80 MiB)`,
);
console.log(
  `where bootmedia's time goes (BOOTMEDIA_TIMINGS=1, median per phase; copy runs alongside layout and metadata):`,
);
for (const [phase, ms] of medianTimings(runs.get("bootmedia image iso")!.map((x) => parseTimings(x.stderr))))
  console.log(`  ${phase.padEnd(30)} ${ms.toFixed(0)} ms`);

// In-process writer figures (as this bench printed before): the writer alone, no process start, no fsync.
const inProc: { ms: number; cpuMs: number; bytes: number; maxRssKiB: number }[] = [];
for (let r = 0; r < Math.min(ROUNDS, 3); r++) {
  await settleDisk(out);
  inProc.push(await runWriter(TREE, out));
}
await rm(out, { force: true });
await ensureBigTree();
await settleDisk(out);
const big = await runWriter(BIG, out);
await rm(out, { force: true });
console.log(
  `\nin-process writeIso (no process start, no fsync), ${inProc.length} runs: median ${sec(median(inProc.map((x) => x.ms)))}, ${mbps(treeBytes, median(inProc.map((x) => x.ms)))} MiB/s, CPU ${sec(median(inProc.map((x) => x.cpuMs)))}, peak RSS ${mib(Math.max(...inProc.map((x) => x.maxRssKiB)))}`,
);
console.log(
  `in-process peak RSS at ${(big.bytes / 2 ** 30).toFixed(2)} GiB: ${mib(big.maxRssKiB)} (target <= 120), ${mbps(big.bytes, big.ms)} MiB/s`,
);
