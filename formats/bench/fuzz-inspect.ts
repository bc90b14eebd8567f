/**
 * Fuzz pass for `bootmedia inspect`: mutates real ISO and FAT images (ours, xorriso's,
 * mkfs.fat + mcopy's, a USB disk image) and reads each through the readers in a child
 * process, and a sample through the CLI. Reports iterations, crashes (an exception without
 * a BM code), hangs (an iteration over the time bound) and the reader process's peak memory
 * (VmHWM, limit 200 MiB). Exits 1 on any crash, hang or memory overrun.
 *
 * Run: npm run fuzz:inspect [-- --iterations 3000 --seed 1 --cli-every 100 --bound-ms 5000]
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { execa } from "execa";
import { makeSeeds } from "./fuzz-seeds.ts";
import { runChild, type IterationResult } from "./fuzz-child.ts";

const ROOT = join(import.meta.dirname, "../..");
const MEMORY_LIMIT_MIB = 200;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Peak resident memory of a live process (KiB), from /proc. */
function peakKiB(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

interface Totals {
  results: IterationResult[];
  hangs: Array<{ i: number; mutation?: string }>;
  peakKiB: number;
}

/** Runs iterations [from, to) in child processes, restarting after a hang. */
async function runIterations(
  work: string,
  from: number,
  to: number,
  seed: number,
  cliEvery: number,
  boundMs: number,
): Promise<Totals> {
  const totals: Totals = { results: [], hangs: [], peakKiB: 0 };
  let next = from;
  while (next < to) {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "fuzz-inspect.ts"),
        "--child",
        work,
        String(next),
        String(to),
        String(seed),
        String(cliEvery),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let current: { i: number; since: number; mutation?: string } | undefined;
    let hung = false;
    const watch = setInterval(() => {
      totals.peakKiB = Math.max(totals.peakKiB, peakKiB(child.pid!));
      if (current && performance.now() - current.since > boundMs) {
        hung = true;
        totals.hangs.push({ i: current.i, mutation: current.mutation });
        child.kill("SIGKILL");
      }
    }, 100);
    for await (const line of createInterface({ input: child.stdout! })) {
      const msg = JSON.parse(line) as { start?: number; mutation?: string } & Partial<IterationResult> & {
          done?: boolean;
          maxRssKiB?: number;
        };
      if (msg.start !== undefined) current = { i: msg.start, since: performance.now(), mutation: msg.mutation };
      else if (msg.done) totals.peakKiB = Math.max(totals.peakKiB, msg.maxRssKiB ?? 0);
      else {
        totals.results.push(msg as IterationResult);
        current = undefined;
        if (totals.results.length % 250 === 0) process.stderr.write(`  ${totals.results.length} iterations\n`);
      }
    }
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once("exit", r),
    );
    clearInterval(watch);
    const last = Math.max(next - 1, ...totals.results.map((r) => r.i), ...totals.hangs.map((h) => h.i));
    if (!hung && child.exitCode !== 0) throw new Error(`fuzz child exited ${child.exitCode} after iteration ${last}`);
    next = last + 1;
  }
  return totals;
}

interface CliRun {
  path: string;
  exitCode: number | undefined;
  coded: boolean;
  crash: boolean;
  hang: boolean;
  maxRssKiB: number;
  note: string;
}

/** `bootmedia inspect` on a saved mutated image: exit 0, or exit 1 with a BM code and no stack trace. */
async function runCli(path: string, boundMs: number): Promise<CliRun> {
  const r = await execa(
    "/usr/bin/time",
    ["-f", "maxrss=%M", process.execPath, join(ROOT, "bin/bootmedia.js"), "inspect", path],
    { reject: false, timeout: boundMs, env: { NO_COLOR: "1" } },
  );
  const stderr = String(r.stderr);
  const maxRssKiB = Number(/maxrss=(\d+)/.exec(stderr)?.[1] ?? 0);
  const coded = r.exitCode === 1 && /error BM\d{4}/.test(stderr) && !/\n\s+at /.test(stderr);
  const hang = Boolean(r.timedOut);
  const crash = !hang && r.exitCode !== 0 && !coded;
  return {
    path,
    exitCode: r.exitCode,
    coded,
    crash,
    hang,
    maxRssKiB,
    note: stderr.split("\n").find((l) => l.startsWith("error")) ?? stderr.slice(0, 200),
  };
}

async function main(): Promise<number> {
  const iterations = option("iterations", 3000),
    seed = option("seed", 1),
    cliEvery = option("cli-every", 100),
    boundMs = option("bound-ms", 5000);
  const work = await mkdtemp(join(tmpdir(), "bm-fuzz-inspect-"));
  let bad = true;
  try {
    const t0 = performance.now();
    const seeds = await makeSeeds(work);
    await writeFile(join(work, "seeds.json"), JSON.stringify(seeds.map(({ head: _h, ...s }) => s)));
    await mkdir(join(work, "cli"));
    await mkdir(join(work, "crashes"));
    process.stderr.write(`seeds: ${seeds.map((s) => s.name).join(", ")}\n`);
    const totals = await runIterations(work, 0, iterations, seed, cliEvery, boundMs);
    const crashes = totals.results.filter((r) => r.outcome === "crash");
    const codes = new Map<string, number>();
    for (const r of totals.results) if (r.code) codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
    const slowest = totals.results.reduce((a, r) => (r.ms > a.ms ? r : a), totals.results[0]);
    const cliPaths = totals.results.filter((r) => r.cliPath).map((r) => r.cliPath!);
    const cli: CliRun[] = [];
    for (const p of cliPaths) {
      cli.push(await runCli(p, Math.max(boundMs, 60_000)));
      if (!cli.at(-1)!.crash && !cli.at(-1)!.hang) await rm(p);
    }
    const cliPeak = Math.max(0, ...cli.map((c) => c.maxRssKiB));
    const peakMiB = totals.peakKiB / 1024;
    console.log(
      `inspect fuzz: seed ${seed}, ${seeds.length} seed images, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    console.log(`iterations (in-process readers): ${totals.results.length + totals.hangs.length}`);
    console.log(
      `  clean reads: ${totals.results.filter((r) => r.outcome === "ok").length}, coded errors: ${totals.results.filter((r) => r.outcome === "coded").length} (${[
        ...codes,
      ]
        .sort()
        .map(([c, n]) => `${c} ${n}`)
        .join(", ")})`,
    );
    console.log(`  crashes (no BM code): ${crashes.length}`);
    for (const c of crashes.slice(0, 10)) console.log(`    #${c.i} ${c.seed}: ${c.mutation} -> ${c.error}`);
    console.log(`  hangs (over ${boundMs} ms): ${totals.hangs.length}`);
    for (const h of totals.hangs.slice(0, 10)) console.log(`    #${h.i}: ${h.mutation}`);
    console.log(
      `  slowest iteration: ${slowest ? `${slowest.ms.toFixed(0)} ms (#${slowest.i} ${slowest.seed}: ${slowest.mutation})` : "-"}`,
    );
    console.log(
      `  peak memory of the reader process (VmHWM): ${peakMiB.toFixed(1)} MiB (limit ${MEMORY_LIMIT_MIB} MiB)`,
    );
    console.log(
      `CLI sample (bootmedia inspect, every ${cliEvery}th): ${cli.length} runs, exit 0: ${cli.filter((c) => c.exitCode === 0).length}, coded errors: ${cli.filter((c) => c.coded).length}, crashes: ${cli.filter((c) => c.crash).length}, hangs: ${cli.filter((c) => c.hang).length}, peak RSS ${(cliPeak / 1024).toFixed(1)} MiB`,
    );
    for (const c of cli.filter((x) => x.crash || x.hang)) console.log(`    ${c.path}: exit ${c.exitCode} ${c.note}`);
    bad =
      crashes.length + totals.hangs.length + cli.filter((c) => c.crash || c.hang).length > 0 ||
      peakMiB > MEMORY_LIMIT_MIB ||
      cliPeak / 1024 > MEMORY_LIMIT_MIB;
    if (bad) console.log(`FAILED: crashed images kept in ${work}/crashes`);
    return bad ? 1 : 0;
  } finally {
    if (!bad && !process.env.BM_FUZZ_KEEP) await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") {
  const [work, from, to, seed, cliEvery] = process.argv.slice(3);
  await runChild(work, Number(from), Number(to), Number(seed), Number(cliEvery));
} else {
  process.exitCode = await main();
}
