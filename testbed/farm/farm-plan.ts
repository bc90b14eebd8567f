/**
 * `bootmedia testbed farm`: what one engine needs to run a testbed matrix as N shards — the
 * checked options, the resources one shard asks for, and the shard and merge command lines.
 * The engines' files (farm-slurm.ts, farm-github.ts, …) are rendered from this plan alone.
 */
import { BootmediaError } from "../../base/errors.ts";
import "../codes.ts";

export const FARM_ENGINES = ["slurm", "github", "gitlab", "kubernetes"] as const;
export type FarmEngine = (typeof FARM_ENGINES)[number];

/** The most shards each engine takes: a GitHub matrix holds 256 jobs, GitLab's `parallel` 200. */
const MAX_SHARDS = { slurm: 1000, github: 256, gitlab: 200, kubernetes: 1000 } as const satisfies Record<
  FarmEngine,
  number
>;

/** QEMU under TCG runs a machine's one vCPU on one host thread: one core per case running. */
const CORES_PER_CASE = 1;
/** What QEMU needs beyond the guest's memory (TCG translation cache, devices), and bootmedia itself. */
const QEMU_OVERHEAD_MIB = 256;
const BOOTMEDIA_MIB = 512;
/** Slack per case beyond its timeout (start, screenshot, stop), and per shard (start, checks). */
const CASE_SLACK_SEC = 30;
const SHARD_SLACK_SEC = 120;
/** A shard given specs builds its media first. */
const BUILD_SEC = 900;

export interface FarmRequest {
  engine: string;
  shards: number;
  /** Shards running at once; default: all. */
  maxParallel?: number;
  /** The testbed's inputs as the engine's machines see them (media files or specs). */
  inputs: string[];
  /** Testbed flags every shard gets (profiles, NICs, memory, timeout …), already checked. */
  testbedArgs: string[];
  /** Cases one shard runs at once. */
  concurrency: number;
  /** Cases in the whole matrix, and the most memory any of their machines gets (MiB). */
  cases: number;
  memoryMiB: number;
  /** Per-case timeout (s). */
  timeoutSec: number;
  /** Some inputs are specs: each shard builds media before booting. */
  buildsMedia: boolean;
  /** The shell words that start bootmedia on the engine's machines. */
  bootmedia: string;
  /** The shards run QEMU with KVM (`--accel kvm`): Kubernetes then asks a device plugin for /dev/kvm. */
  kvm?: boolean;
  /** Kubernetes: the container image with bootmedia, QEMU and the media. */
  image?: string;
  /** Where the run lives on the engine: Slurm's shared folder (absolute), the Kubernetes volume's mount. */
  runDir: string;
}

export interface FarmPlan extends FarmRequest {
  engine: FarmEngine;
  maxParallel: number;
  /** Per shard: cores, memory (MiB) and a time limit (minutes) no shard can outlast. */
  cpus: number;
  memMiB: number;
  timeLimitMin: number;
  casesPerShard: number;
}

/** A file (or an empty folder) an engine's renderer writes into the farm folder. */
export type FarmFile = { path: string; text: string; executable?: boolean } | { path: string; directory: true };

/** The options alone, checked before anything is read (BM5016). */
export function checkFarmOptions(
  req: Pick<FarmRequest, "engine" | "shards" | "maxParallel" | "concurrency" | "image" | "runDir">,
): void {
  planChecks(req);
}

export function planFarm(req: FarmRequest): FarmPlan {
  const { engine, maxParallel } = planChecks(req);
  const casesPerShard = Math.ceil(req.cases / req.shards);
  const rounds = Math.ceil(casesPerShard / req.concurrency);
  const seconds = rounds * (req.timeoutSec + CASE_SLACK_SEC) + SHARD_SLACK_SEC + (req.buildsMedia ? BUILD_SEC : 0);
  return {
    ...req,
    engine,
    maxParallel: Math.min(maxParallel, req.shards),
    cpus: req.concurrency * CORES_PER_CASE,
    memMiB: req.concurrency * (req.memoryMiB + QEMU_OVERHEAD_MIB) + BOOTMEDIA_MIB,
    timeLimitMin: Math.ceil(seconds / 60),
    casesPerShard,
  };
}

function planChecks(req: Pick<FarmRequest, "engine" | "shards" | "maxParallel" | "concurrency" | "image" | "runDir">): {
  engine: FarmEngine;
  maxParallel: number;
} {
  if (!(FARM_ENGINES as readonly string[]).includes(req.engine))
    throw invalid(`unknown engine ${JSON.stringify(req.engine)} (${FARM_ENGINES.join(", ")})`);
  const engine = req.engine as FarmEngine;
  if (!Number.isInteger(req.shards) || req.shards < 1 || req.shards > MAX_SHARDS[engine]) {
    throw invalid(`--shards ${req.shards}: ${engine} takes 1 to ${MAX_SHARDS[engine]} shards`);
  }
  const maxParallel = req.maxParallel ?? req.shards;
  if (!Number.isInteger(maxParallel) || maxParallel < 1)
    throw invalid(`--max-parallel ${req.maxParallel}: at least one shard must run at a time`);
  if (!Number.isInteger(req.concurrency) || req.concurrency < 1)
    throw invalid(`--concurrency ${req.concurrency}: at least one case at a time`);
  if (engine === "kubernetes" && !req.image)
    throw invalid("--engine kubernetes needs --image: the container image holding bootmedia, QEMU and the media");
  if (engine === "slurm" && !/^\/[\w@+=:,./-]*$/.test(req.runDir)) {
    throw invalid(
      `the run folder ${req.runDir} must be an absolute path without spaces or %: Slurm's #SBATCH lines and log names take it as it is`,
    );
  }
  return { engine, maxParallel };
}

const invalid = (message: string) => new BootmediaError("BM5016", message);

/** One word for a POSIX shell, quoted only where it must be. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A double-quoted shell word: `text` literal, then `variable` (e.g. `${SLURM_ARRAY_TASK_ID}`) expanded. */
export function shellWithVariable(text: string, variable: string): string {
  return `"${text.replace(/["\\$`]/g, "\\$&")}${variable}"`;
}

/** The command a shard runs: the testbed on its inputs, its shard and report folder given as shell words. */
export function shardCommand(plan: FarmPlan, shard: string, reportDir: string): string {
  const words = [...plan.inputs, ...plan.testbedArgs].map(shellQuote);
  return [
    plan.bootmedia,
    "testbed",
    ...words,
    "--shard",
    shard,
    "--report-dir",
    reportDir,
    "--concurrency",
    String(plan.concurrency),
  ].join(" ");
}

/** The merge: every shard folder named, so one that left nothing is reported, not skipped. */
export function mergeCommand(plan: FarmPlan, shardDirs: readonly string[], reportDir: string): string {
  return [
    plan.bootmedia,
    "testbed",
    "merge",
    "--partial",
    "--report-dir",
    shellQuote(reportDir),
    ...shardDirs.map(shellQuote),
  ].join(" ");
}
