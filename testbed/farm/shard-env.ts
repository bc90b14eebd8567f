/**
 * `--shard auto` / `--shard auto/N`: which shard this process is, read from the engine that
 * started it. Slurm job arrays and Kubernetes Indexed Jobs are read here; CI systems through
 * ci-parallel-vars (GitLab, Buildkite, CircleCI, Bitbucket, Semaphore, Travis), which knows
 * neither Slurm nor Kubernetes. GitHub Actions has no such variables: its workflow passes
 * `--shard ${{ matrix.shard }}/N` (farm-github.ts).
 */
import { createRequire } from "node:module";
import { BootmediaError } from "../../base/errors.ts";
import { parseShard, type Shard } from "../matrix.ts";
import "../codes.ts";

/** Where a shard came from, in the order they are asked (the innermost engine first). */
const SHARD_SOURCES = ["slurm", "kubernetes", "ci"] as const;
type ShardSource = (typeof SHARD_SOURCES)[number];

interface EnvironmentShard extends Shard {
  source: ShardSource;
  /** The variables it was read from, for messages and the report. */
  from: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses `auto` or `auto/N`; undefined when `text` is not one of them. */
function parseAutoShard(text: string): { count?: number } | undefined {
  const m = /^auto(?:\/(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  return m[1] === undefined ? {} : { count: Number(m[1]) };
}

/** The shard of this process (1-based), or BM5014 (nothing found) / BM5015 (found, but inconsistent). */
export function shardFromEnvironment(count: number | undefined, env: Env = process.env): EnvironmentShard {
  if (count !== undefined && count < 1) throw inconsistent(`--shard auto/${count}: a farm has at least one shard`);
  const found = slurmShard(env) ?? kubernetesShard(env, count) ?? ciShard(env);
  if (!found) {
    throw new BootmediaError(
      "BM5014",
      "--shard auto found no shard index: none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or a CI system's parallel-job variables is set",
    );
  }
  if (found.count < 1 || found.index < 1 || found.index > found.count) {
    throw inconsistent(`${found.from} gives shard ${found.index} of ${found.count}`);
  }
  if (count !== undefined && count !== found.count) {
    throw inconsistent(`--shard auto/${count}, but ${found.from} gives ${found.count} shards`);
  }
  return found;
}

const inconsistent = (message: string) => new BootmediaError("BM5015", message);

/** A decimal integer or absent; anything else is an engine (or a user) writing nonsense. */
function intVar(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw.trim())) throw inconsistent(`${name}=${JSON.stringify(raw)} is not a whole number`);
  return Number(raw);
}

/**
 * A Slurm array task: index ID−MIN of COUNT. Only a contiguous array (`--array=a-b`, step 1)
 * maps onto shards; a list or a step would leave gaps, so MAX−MIN+1 must equal COUNT.
 */
function slurmShard(env: Env): EnvironmentShard | undefined {
  const id = intVar(env, "SLURM_ARRAY_TASK_ID");
  if (id === undefined) return undefined;
  const from = "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT";
  const total = intVar(env, "SLURM_ARRAY_TASK_COUNT");
  if (total === undefined) throw inconsistent("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
  const min = intVar(env, "SLURM_ARRAY_TASK_MIN") ?? 0;
  const max = intVar(env, "SLURM_ARRAY_TASK_MAX");
  const step = intVar(env, "SLURM_ARRAY_TASK_STEP") ?? 1;
  if (step !== 1 || (max !== undefined && max - min + 1 !== total)) {
    throw inconsistent(
      `the Slurm array ${min}-${max ?? "?"} (step ${step}) is not contiguous: ${total} tasks cannot be ${total} shards`,
    );
  }
  return { source: "slurm", from, index: id - min + 1, count: total };
}

/** A Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0-based); the count is the Job's `completions`, which only the command line carries. */
function kubernetesShard(env: Env, count: number | undefined): EnvironmentShard | undefined {
  const index = intVar(env, "JOB_COMPLETION_INDEX");
  if (index === undefined) return undefined;
  if (count === undefined) {
    throw new BootmediaError(
      "BM5014",
      "JOB_COMPLETION_INDEX is set, but Kubernetes does not tell a pod the Job's completions",
      {
        hint: "Give the count with the index: --shard auto/N, N being the Indexed Job's `completions` (`testbed farm --engine kubernetes` writes it so).",
      },
    );
  }
  return { source: "kubernetes", from: "JOB_COMPLETION_INDEX", index: index + 1, count };
}

/**
 * ci-parallel-vars computes its answer once, when it is loaded, from process.env (0-based; it
 * turns GitLab's 1-based CI_NODE_INDEX into 0-based itself when GITLAB_CI is set). It is
 * loaded afresh, against the environment asked about, each time: one synchronous call.
 */
function ciShard(env: Env): EnvironmentShard | undefined {
  const require = createRequire(import.meta.url);
  const path = require.resolve("ci-parallel-vars");
  const saved = process.env;
  let match: { index: number; total: number } | null;
  try {
    process.env = { ...env } as NodeJS.ProcessEnv;
    delete require.cache[path];
    match = require(path) as typeof match;
  } finally {
    process.env = saved;
    delete require.cache[path];
  }
  if (!match) return undefined;
  return { source: "ci", from: "the CI system's parallel-job variables", index: match.index + 1, count: match.total };
}

/** The CLI's `--shard`: `i/n`, or `auto` / `auto/N` read from the environment. */
export function resolveShard(text: string, env: Env = process.env): Shard {
  const auto = parseAutoShard(text);
  if (!auto) return parseShard(text);
  const { index, count } = shardFromEnvironment(auto.count, env);
  return { index, count };
}
