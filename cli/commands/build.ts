/** `bootmedia build`: resolve → validate → layout → fetch → write. */
import type { CAC } from "cac";
import { buildMedia } from "../../core/run.ts";
import { contextFromCli, type CommonFlags } from "./context.ts";
import { printDiagnostics, printJson, progressFor } from "./render.ts";
import { addSpecFlags, modelForArgs } from "./spec-flags.ts";
import type { CommandRow, Run } from "./types.ts";
import { DEFAULT_HOOK_TIMEOUT_S } from "../../core/hook-timeout.ts";

export async function register(cli: CAC, run: Run, args: string[], row: CommandRow): Promise<void> {
  const build = cli
    .command(row.usage, row.describe)
    .option("--force", "Replace existing outputs (atomically; the old output stays until the new one is complete)")
    .option("--strict", "Treat warnings (e.g. no media password) as errors")
    .option("--yes", "Do not ask before erasing a USB drive (for scripts)")
    .option("--cache-dir <dir>", "Content cache (default $BOOTMEDIA_CACHE or ~/.cache/bootmedia)")
    .option("--concurrency <n>", "Parallel fetches (1-256)", { default: 4 })
    .option(
      "--hook-timeout <seconds>",
      `Time limit of one plugin hook call (default $BOOTMEDIA_HOOK_TIMEOUT or ${DEFAULT_HOOK_TIMEOUT_S})`,
    );
  addSpecFlags(build, await modelForArgs(args));
  build.action((spec: string | undefined, flags: CommonFlags) =>
    run(async () => {
      const mode = { json: flags.json === true, quiet: flags.quiet === true };
      const { ctx, plugins } = await contextFromCli(spec, flags, progressFor(mode));
      const result = await buildMedia(ctx, plugins);
      if (mode.json) {
        printJson({
          ok: true,
          outputs: result.outputs,
          log: result.logFile,
          fetch: result.fetch,
          timings: result.timings,
          diagnostics: result.diagnostics,
        });
      } else {
        printDiagnostics(result.diagnostics);
        for (const o of result.outputs) process.stdout.write(`wrote ${o.path} (${o.bytes} bytes)\n`);
        process.stdout.write(`log: ${result.logFile}\n`);
      }
      return 0;
    }),
  );
}
