/**
 * The capacity plan: from the per-case times a run recorded (results.json), the wall time a
 * farm of N shards, K at once, C cases per shard at once, should take. The model is the one
 * the testbed and the engines follow: shard k takes every N-th case of the id-sorted matrix
 * (matrix.ts), runs them in id order C at a time, and the engine starts shards in index order
 * as slots free up, K at a time. Cases are assumed to take what they took before.
 */
import { selectShard } from "../matrix.ts";
import type { TestbedReport } from "../report-model.ts";

interface CaseEstimate {
  id: string;
  ms: number;
  /** This case's own time, its profile's mean, or the whole run's mean. */
  from: "case" | "profile" | "run";
}

interface FarmPrediction {
  shards: number;
  atOnce: number;
  concurrency: number;
  /** Cores busy at most: shards at once × cases per shard at once. */
  cores: number;
  wallMs: number;
  longestShardMs: number;
  /** The sum of every shard's time: what the farm costs in machine time. */
  shardMs: number;
}

/** Per-shard cost beyond its cases: the engine starting it, bootmedia starting and checking (bench:farm measures it). */
const SHARD_OVERHEAD_MS = 3000;

const profileOf = (id: string) => id.slice(0, id.indexOf("."));
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Each case's expected time from a recorded run; undefined when the run recorded no case. */
export function estimateCases(
  ids: readonly string[],
  recorded: Pick<TestbedReport, "cases">,
): CaseEstimate[] | undefined {
  if (recorded.cases.length === 0) return undefined;
  const byId = new Map(recorded.cases.map((c) => [c.id, c.timings.totalMs]));
  const byProfile = new Map<string, number[]>();
  for (const c of recorded.cases) byProfile.set(c.profile, [...(byProfile.get(c.profile) ?? []), c.timings.totalMs]);
  const all = mean(recorded.cases.map((c) => c.timings.totalMs));
  return ids.map((id) => {
    const own = byId.get(id);
    if (own !== undefined) return { id, ms: own, from: "case" };
    const profile = byProfile.get(profileOf(id));
    return profile ? { id, ms: mean(profile), from: "profile" } : { id, ms: all, from: "run" };
  });
}

/** The makespan of `jobs` started in order on `slots` parallel slots, each as soon as one frees. */
export function listSchedule(jobs: readonly number[], slots: number): number {
  const free = Array.from({ length: Math.max(1, slots) }, () => 0);
  for (const job of jobs) {
    const i = free.indexOf(Math.min(...free));
    free[i] += job;
  }
  return Math.max(...free);
}

export function predictFarm(
  cases: readonly CaseEstimate[],
  shards: number,
  atOnce: number,
  concurrency: number,
  overheadMs = SHARD_OVERHEAD_MS,
): FarmPrediction {
  const shardTimes = Array.from({ length: shards }, (_, i) => {
    const mine = selectShard(cases, { index: i + 1, count: shards });
    return (
      overheadMs +
      listSchedule(
        mine.map((c) => c.ms),
        concurrency,
      )
    );
  });
  const slots = Math.min(atOnce, shards);
  return {
    shards,
    atOnce: slots,
    concurrency,
    cores: slots * concurrency,
    wallMs: listSchedule(shardTimes, slots),
    longestShardMs: Math.max(...shardTimes),
    shardMs: shardTimes.reduce((a, b) => a + b, 0),
  };
}

/** Shard counts worth comparing up to `shards`: 1, 2, 4, … and `shards` itself. */
export function shardCounts(shards: number): number[] {
  const out = new Set<number>();
  for (let n = 1; n < shards; n *= 2) out.add(n);
  out.add(shards);
  return [...out];
}

const minutes = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s` : `${s} s`;
};

/** The plan as the farm command prints it. */
export function renderCapacity(
  source: string,
  cases: readonly CaseEstimate[],
  rows: readonly FarmPrediction[],
): string {
  const own = cases.filter((c) => c.from === "case").length;
  const lines = [
    `capacity plan from ${source}: ${cases.length} cases, ${own} with their own recorded time${own < cases.length ? ", the rest at their profile's (or the run's) mean" : ""}`,
    "  shards  at once  cores  expected wall  longest shard  machine time",
    ...rows.map(
      (r) =>
        `  ${String(r.shards).padStart(6)}  ${String(r.atOnce).padStart(7)}  ${String(r.cores).padStart(5)}  ${minutes(r.wallMs).padStart(13)}  ${minutes(r.longestShardMs).padStart(13)}  ${minutes(r.shardMs).padStart(12)}`,
    ),
  ];
  return lines.join("\n") + "\n";
}
