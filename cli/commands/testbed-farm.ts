/**
 * `bootmedia testbed farm <inputs...> --engine slurm|github|gitlab|kubernetes --shards N
 * [--max-parallel K] --out run/`: writes what the engine runs for these inputs and flags,
 * and prints the capacity plan from the last run's per-case times.
 */
import { existsSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { printJson } from "./render.ts";
import { checkFarmOptions, planFarm, shellQuote, type FarmEngine } from "../../testbed/farm/farm-plan.ts";
import { writeFarm } from "../../testbed/farm/farm-files.ts";
import { farmMatrix } from "../../testbed/farm/farm-matrix.ts";
import { estimateCases, predictFarm, renderCapacity, shardCounts } from "../../testbed/farm/capacity.ts";
import { readReport, REPORT_FILES } from "../../testbed/report.ts";
import { parseMemoryOption } from "../../testbed/memory.ts";
import { TESTBED_DEFAULTS } from "../../testbed/testbed.ts";
import type { MediaKind } from "../../testbed/profiles.ts";

export interface FarmFlags {
  engine?: string;
  shards?: string;
  maxParallel?: string;
  out?: string;
  image?: string;
  bootmedia?: string;
  times?: string;
  concurrency?: string;
  profiles?: string;
  media?: string;
  nics?: string;
  timeout?: string;
  memory?: string;
  accel?: string;
  passSerial?: string;
  passScreen?: string;
  answer?: string | string[];
  json?: boolean;
}

/** Where the Kubernetes pods mount the shared volume that holds the run. */
const KUBERNETES_RUN_DIR = "/farm";
const DEFAULT_TIMES = "out/testbed";

const list = (s: string | undefined) =>
  s
    ? String(s)
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;

/** The testbed flags every shard gets, as the user gave them (secrets stay references). */
function passThrough(flags: FarmFlags): string[] {
  const one = (flag: string, value: string | undefined) => (value === undefined ? [] : [flag, String(value)]);
  return [
    ...one("--profiles", flags.profiles),
    ...one("--media", flags.media),
    ...one("--nics", flags.nics),
    ...one("--timeout", flags.timeout),
    ...one("--memory", flags.memory),
    ...one("--accel", flags.accel),
    ...one("--pass-serial", flags.passSerial),
    ...one("--pass-screen", flags.passScreen),
    ...([] as string[]).concat(flags.answer ?? []).flatMap((a) => ["--answer", String(a)]),
  ];
}

/** How the engine's machines start bootmedia: this very installation on Slurm's shared filesystem, the package elsewhere. */
function defaultBootmedia(engine: FarmEngine): string {
  if (engine === "slurm") return [process.execPath, realpathSync(process.argv[1]!)].map(shellQuote).join(" ");
  return engine === "kubernetes" ? "bootmedia" : "npx bootmedia";
}

const whole = (flag: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(String(v).trim())) throw new BootmediaError("BM5016", `${flag} ${v}: a whole number`);
  return Number(v);
};

export async function runFarm(inputs: string[], flags: FarmFlags): Promise<number> {
  if (inputs.length === 0)
    throw new BootmediaError("BM1009", "testbed farm needs the specs or media files the shards boot");
  if (!flags.engine)
    throw new BootmediaError("BM5016", "testbed farm needs --engine (slurm, github, gitlab, kubernetes)");
  if (flags.shards === undefined) throw new BootmediaError("BM5016", "testbed farm needs --shards N");
  const outDir = resolve(flags.out ?? "out/farm");
  const engine = flags.engine as FarmEngine;
  const shards = whole("--shards", flags.shards)!;
  const maxParallel = whole("--max-parallel", flags.maxParallel);
  const concurrency = whole("--concurrency", flags.concurrency) ?? 1;
  const runDir = engine === "kubernetes" ? KUBERNETES_RUN_DIR : outDir;
  checkFarmOptions({ engine, shards, maxParallel, concurrency, image: flags.image, runDir });
  const kinds = (list(flags.media) ?? ["iso", "usb"]) as MediaKind[];
  const memory = flags.memory ? parseMemoryOption(String(flags.memory)) : undefined;
  const matrix = await farmMatrix(
    inputs.map((i) => resolve(i)),
    {
      kinds,
      ...(list(flags.profiles) ? { profiles: list(flags.profiles)! } : {}),
      ...(list(flags.nics) ? { nics: list(flags.nics)! } : {}),
      ...(memory ? { memory } : {}),
    },
  );
  const plan = planFarm({
    engine,
    shards,
    ...(maxParallel !== undefined ? { maxParallel } : {}),
    // Slurm's nodes share the filesystem: absolute paths; a CI checkout or an image: as given.
    inputs: engine === "slurm" ? inputs.map((i) => resolve(i)) : inputs,
    testbedArgs: passThrough(flags),
    concurrency,
    cases: matrix.ids.length,
    memoryMiB: matrix.memoryMiB,
    timeoutSec: whole("--timeout", flags.timeout) ?? TESTBED_DEFAULTS.timeoutSec,
    buildsMedia: matrix.buildsMedia,
    bootmedia: flags.bootmedia ?? defaultBootmedia(engine),
    ...(flags.image ? { image: flags.image } : {}),
    kvm: flags.accel === "kvm",
    runDir,
  });
  const capacity = await capacityPlan(matrix.ids, plan.shards, plan.maxParallel, plan.concurrency, flags.times);
  const files = await writeFarm(plan, outDir, {
    cases: matrix.ids.length,
    ...(capacity ? { capacity: { source: capacity.source, predictions: capacity.rows } } : {}),
  });
  if (flags.json) {
    printJson({
      ok: true,
      out: outDir,
      files,
      plan,
      capacity: capacity ? { source: capacity.source, predictions: capacity.rows } : null,
    });
    return 0;
  }
  process.stdout.write(
    `${engine}: ${matrix.ids.length} cases in ${plan.shards} shards, at most ${plan.maxParallel} at once, ${plan.cpus} core(s) and ${plan.memMiB} MiB each; wrote ${files.join(", ")} to ${outDir}\n`,
  );
  process.stdout.write(
    capacity
      ? capacity.text
      : `capacity plan: no recorded run (give --times <report folder or results.json> of an earlier run)\n`,
  );
  return 0;
}

async function capacityPlan(
  ids: string[],
  shards: number,
  atOnce: number,
  concurrency: number,
  times: string | undefined,
) {
  const given = times ?? (existsSync(join(DEFAULT_TIMES, REPORT_FILES.json)) ? DEFAULT_TIMES : undefined);
  if (!given) return undefined;
  const dir = given.endsWith(".json") ? resolve(given, "..") : resolve(given);
  const recorded = await readReport(dir).catch((e: Error) => {
    throw new BootmediaError("BM5104", `cannot read the recorded times in ${given}: ${e.message}`, {
      where: given,
      hint: "Give --times the report folder (or its results.json) of an earlier testbed run.",
    });
  });
  const cases = estimateCases(ids, recorded);
  if (!cases) return undefined;
  const rows = shardCounts(shards).map((n) => predictFarm(cases, n, Math.min(atOnce, n), concurrency));
  return {
    source: join(dir, REPORT_FILES.json),
    rows,
    text: renderCapacity(join(dir, REPORT_FILES.json), cases, rows),
  };
}
