/** Turns a spec file and the command line into a BuildContext and the plugin list. */
import type { BuildContext } from "../../core/context.ts";
import type { Plugin } from "../../core/plugin.ts";
import type { Progress } from "../../core/progress.ts";
import { prepareBuild } from "../../api/build.ts";

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
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  return prepareBuild({
    file: specFile,
    flags,
    plugins: flags.plugin === undefined ? [] : ([] as string[]).concat(flags.plugin),
    force: flags.force === true,
    strict: flags.strict === true,
    yes: flags.yes === true,
    ...(flags.cacheDir === undefined ? {} : { cacheDir: flags.cacheDir }),
    ...(concurrency === undefined ? {} : { concurrency }),
    progress,
  });
}
