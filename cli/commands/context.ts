/** Turns a spec file and the command line into a BuildContext and the plugin list. */
import { resolve } from "node:path";
import { ContentCache, defaultCacheDir } from "../../core/cache.ts";
import { sourceDateEpochFromEnv, type BuildContext } from "../../core/context.ts";
import { BuildLog } from "../../core/log.ts";
import { Redactor } from "../../core/secrets.ts";
import type { Plugin } from "../../core/plugin.ts";
import type { Progress } from "../../core/progress.ts";
import { loadSpec } from "../../api/spec.ts";

export interface CommonFlags {
  force?: boolean;
  strict?: boolean;
  yes?: boolean;
  cacheDir?: string;
  concurrency?: number | string;
  plugin?: string | string[];
  [key: string]: unknown;
}

export async function contextFromCli(specFile: string | undefined, flags: CommonFlags, progress: Progress): Promise<{ ctx: BuildContext; plugins: Plugin[] }> {
  const cliPlugins = flags.plugin === undefined ? [] : ([] as string[]).concat(flags.plugin);
  const loaded = await loadSpec({ file: specFile, flags, plugins: cliPlugins });
  const redactor = new Redactor();
  const ctx: BuildContext = {
    spec: loaded.spec,
    specFile: loaded.file,
    specDir: loaded.dir,
    options: {
      force: flags.force === true,
      strict: flags.strict === true,
      yes: flags.yes === true,
      concurrency: Number(flags.concurrency ?? 4),
      sourceDateEpoch: sourceDateEpochFromEnv(),
    },
    cache: new ContentCache(resolve(flags.cacheDir ?? defaultCacheDir())),
    progress,
    log: new BuildLog(redactor),
    redactor,
  };
  ctx.log.write("spec", `${loaded.file}: media "${ctx.spec.name}", target ${ctx.spec.target.type} ${ctx.spec.target.output}`);
  const plugins = await loaded.plugins.instances(ctx.spec);
  ctx.log.write("plugins", plugins.map((p) => p.name).join(", "));
  return { ctx, plugins };
}
