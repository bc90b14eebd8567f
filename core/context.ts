/** Everything a build knows besides its hooks: spec, options, cache, progress, log, secrets. */
import type { ContentCache } from "./cache.ts";
import type { BuildLog } from "./log.ts";
import type { Progress } from "./progress.ts";
import type { Redactor } from "./secrets.ts";
import type { MediaSpec } from "./spec-schema.ts";
import type { ResolvedTarget } from "./target.ts";

export interface BuildOptions {
  /** Replace existing outputs (atomically). */
  force: boolean;
  /** Warnings that matter (no password, …) become errors. */
  strict: boolean;
  /** Fetch concurrency. */
  concurrency: number;
  /** Skip confirmation prompts (writing to a drive). */
  yes: boolean;
  /** Seconds since the epoch for every timestamp and id on the media. */
  sourceDateEpoch: number;
  /** Time limit of one plugin hook call (default DEFAULT_HOOK_TIMEOUT_S). */
  hookTimeoutMs?: number;
}

export interface BuildContext {
  spec: MediaSpec;
  specFile: string;
  specDir: string;
  /** The spec's target, resolved once before any work: absolute output, whether it is a drive, the paths replaced, the log files. */
  target: ResolvedTarget;
  options: BuildOptions;
  cache: ContentCache;
  progress: Progress;
  log: BuildLog;
  redactor: Redactor;
}

export function sourceDateEpochFromEnv(): number {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (v !== undefined && /^\d+$/.test(v)) return Number(v);
  return Math.floor(Date.now() / 1000);
}
