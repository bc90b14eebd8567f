/** A build as a program starts it: spec and plugins loaded, context made, then plan or build. */
import { resolve } from "node:path";
import { ContentCache, defaultCacheDir } from "../core/cache.ts";
import { sourceDateEpochFromEnv, type BuildContext } from "../core/context.ts";
import { BuildLog } from "../core/log.ts";
import { silentProgress, type Progress } from "../core/progress.ts";
import { buildMedia, planMedia, type BuildResult, type PlanResult } from "../core/run.ts";
import { Redactor } from "../core/secrets.ts";
import { resolveTarget } from "../core/target.ts";
import type { Plugin } from "../core/plugin.ts";
import { loadSpec, type SpecInput } from "./spec.ts";

export interface BuildInput extends SpecInput {
  /** Replace existing outputs (atomically). */
  force?: boolean;
  /** Warnings become errors. */
  strict?: boolean;
  /** Do not ask before erasing a USB drive. */
  yes?: boolean;
  /** Content cache folder (default $BOOTMEDIA_CACHE or ~/.cache/bootmedia). */
  cacheDir?: string;
  /** Parallel fetches (default 4). */
  concurrency?: number;
  /** Time limit of one plugin hook call, in ms (default 600 s). */
  hookTimeoutMs?: number;
  /** Where progress goes (default: nowhere). */
  progress?: Progress;
}

/** The context and plugin instances of one build. */
export async function prepareBuild(input: BuildInput): Promise<{ ctx: BuildContext; plugins: Plugin[] }> {
  const loaded = await loadSpec(input);
  const redactor = new Redactor();
  const ctx: BuildContext = {
    spec: loaded.spec,
    specFile: loaded.file,
    specDir: loaded.dir,
    target: resolveTarget(loaded.spec.target, loaded.dir, loaded.plugins.targetType(loaded.spec.target.type)),
    options: {
      force: input.force === true,
      strict: input.strict === true,
      yes: input.yes === true,
      concurrency: input.concurrency ?? 4,
      ...(input.hookTimeoutMs === undefined ? {} : { hookTimeoutMs: input.hookTimeoutMs }),
      sourceDateEpoch: sourceDateEpochFromEnv(),
    },
    cache: new ContentCache(resolve(input.cacheDir ?? defaultCacheDir())),
    progress: input.progress ?? silentProgress,
    log: new BuildLog(redactor),
    redactor,
  };
  ctx.log.write(
    "spec",
    `${loaded.file}: media "${ctx.spec.name}", target ${ctx.spec.target.type} ${ctx.spec.target.output}`,
  );
  const plugins = await loaded.plugins.instances(ctx.spec);
  ctx.log.write("plugins", plugins.map((p) => p.name).join(", "));
  return { ctx, plugins };
}

/** Resolve → validate → layout → fetch → write; outputs appear only when everything succeeded. */
export async function build(input: BuildInput): Promise<BuildResult> {
  const { ctx, plugins } = await prepareBuild(input);
  return buildMedia(ctx, plugins);
}

/** Resolve, validate and lay out the media; downloads and writes nothing. */
export async function plan(input: BuildInput): Promise<PlanResult> {
  const { ctx, plugins } = await prepareBuild(input);
  return planMedia(ctx, plugins);
}
