/** Test support: programmatic builds whose content comes from a library folder or from DPs. */
import { join } from "node:path";
import { buildMedia, type BuildResult } from "../../../core/run.ts";
import { ContentCache } from "../../../core/cache.ts";
import { BuildLog } from "../../../core/log.ts";
import { Redactor } from "../../../core/secrets.ts";
import { resolveTarget } from "../../../core/target.ts";
import { loadSpecObject } from "../../../core/spec-load.ts";
import type { BuildContext } from "../../../core/context.ts";
import type { Progress } from "../../../core/progress.ts";
import { builtinPluginSet } from "../../builtin.ts";
import { DistributionPointPlugin, PLUGIN_NAME, type DistributionPointOptions } from "../distribution-point-plugin.ts";
import { SAMPLE_BOOT_IMAGE, SAMPLE_TASK_SEQUENCE } from "./library.ts";

interface HarnessBuild {
  result?: BuildResult;
  error?: unknown;
  warnings: string[];
  log: string;
}

/** Builds the sample media (directory target unless `target` says otherwise) from `library`. */
export async function buildFrom(
  library: unknown,
  opts: {
    out: string;
    cache: string;
    dir: string;
    target?: Record<string, unknown>;
    dp?: DistributionPointOptions;
    concurrency?: number;
  },
): Promise<HarnessBuild> {
  const raw = {
    name: "dp-test",
    bootImage: SAMPLE_BOOT_IMAGE,
    taskSequence: SAMPLE_TASK_SEQUENCE,
    contentLibrary: library,
    target: opts.target ?? { type: "directory", output: opts.out },
  };
  const set = builtinPluginSet();
  const loaded = await loadSpecObject(raw, opts.dir, { model: async () => set.model });
  const warnings: string[] = [];
  const progress: Progress = { stage: () => ({ update() {}, end() {} }), info() {}, warn: (m) => warnings.push(m) };
  const redactor = new Redactor();
  const ctx: BuildContext = {
    spec: loaded.spec,
    specFile: join(opts.dir, "media.yaml"),
    specDir: opts.dir,
    target: resolveTarget(loaded.spec.target, opts.dir, set.targetType(loaded.spec.target.type)),
    options: { force: true, strict: false, yes: true, concurrency: opts.concurrency ?? 4, sourceDateEpoch: 1764000000 },
    cache: new ContentCache(opts.cache),
    progress,
    log: new BuildLog(redactor),
    redactor,
  };
  // The test's own DistributionPointPlugin (with its options) replaces the built-in one.
  const plugins = [
    ...(await set.instances(ctx.spec)).filter((p) => p.name !== PLUGIN_NAME),
    new DistributionPointPlugin(opts.dp),
  ];
  try {
    return { result: await buildMedia(ctx, plugins), warnings, log: ctx.log.text() };
  } catch (error) {
    return { error, warnings, log: ctx.log.text() };
  }
}
