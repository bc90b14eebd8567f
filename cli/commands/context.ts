/** Turns a spec file and the command line into a BuildContext and the plugin list. */
import type { BuildContext } from "../../core/context.ts";
import type { Plugin } from "../../core/plugin.ts";
import type { Progress } from "../../core/progress.ts";
import { prepareBuild } from "../../api/build.ts";
import { BootmediaError } from "../../base/errors.ts";
import { DEFAULT_HOOK_TIMEOUT_S } from "../../core/hook-timeout.ts";

export interface CommonFlags {
  force?: boolean;
  strict?: boolean;
  yes?: boolean;
  cacheDir?: string;
  concurrency?: number | string;
  hookTimeout?: number | string;
  plugin?: string | string[];
  [key: string]: unknown;
}

/** A whole number in 1..max, or BM1015 naming the option (the value is not a secret: it is shown). */
function positiveInteger(value: unknown, fallback: number, option: string, max: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new BootmediaError(
      "BM1015",
      `${option} must be a whole number from 1 to ${max}, not ${JSON.stringify(String(value)).slice(0, 40)}`,
      { where: option },
    );
  }
  return n;
}

export async function contextFromCli(
  specFile: string | undefined,
  flags: CommonFlags,
  progress: Progress,
): Promise<{ ctx: BuildContext; plugins: Plugin[] }> {
  const concurrency = positiveInteger(flags.concurrency, 4, "--concurrency", 256);
  const hookSeconds = positiveInteger(
    flags.hookTimeout ?? process.env.BOOTMEDIA_HOOK_TIMEOUT,
    DEFAULT_HOOK_TIMEOUT_S,
    flags.hookTimeout === undefined ? "BOOTMEDIA_HOOK_TIMEOUT" : "--hook-timeout",
    7 * 24 * 3600,
  );
  return prepareBuild({
    hookTimeoutMs: hookSeconds * 1000,
    file: specFile,
    flags,
    plugins: flags.plugin === undefined ? [] : ([] as string[]).concat(flags.plugin),
    force: flags.force === true,
    strict: flags.strict === true,
    yes: flags.yes === true,
    ...(flags.cacheDir === undefined ? {} : { cacheDir: flags.cacheDir }),
    concurrency,
    progress,
  });
}
