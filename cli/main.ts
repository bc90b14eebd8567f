/**
 * The bootmedia command line: the composition root. The only place that calls process.exit.
 * Exit codes: 0 ok; 1 the build found problems (coded errors); 2 usage; 3 internal error;
 * 130/143 interrupted by SIGINT/SIGTERM (outputs untouched).
 * Only the command being run is loaded, so `--help` and `--version` start in a blink.
 */
import { cac } from "cac";
import { BootmediaError } from "../base/errors.ts";
import { PACKAGE_VERSION } from "../base/package-root.ts";
import { markStartup, timed } from "../base/timings.ts";
import { COMMANDS } from "./commands/index.ts";
import { EXIT } from "./exit-codes.ts";
import type { OutputMode } from "./commands/render.ts";
import type { ExitGuard } from "./exit-guard.ts";

export { EXIT };

export async function main(argv: string[]): Promise<number> {
  markStartup();
  const cli = cac("bootmedia");
  let mode: OutputMode = { json: argv.includes("--json"), quiet: argv.includes("--quiet") };
  let pending: Promise<number> | undefined;
  let guard: ExitGuard | undefined;
  const run = (fn: () => Promise<number>) => {
    pending = fn();
  };
  try {
    const args = argv.slice(2);
    const name = args.find((a) => !a.startsWith("-"));
    for (const [command, row] of Object.entries(COMMANDS)) {
      if (command === name) await timed("command-load", async () => (await row.load()).register(cli, run, args, row));
      else cli.command(row.usage, row.describe).allowUnknownOptions();
    }
    cli.option("--json", "Machine-readable output on stdout").option("--quiet", "No progress output");
    cli.help();
    cli.version(PACKAGE_VERSION);
    const parsed = cli.parse(argv, { run: false });
    mode = { json: parsed.options.json === true, quiet: parsed.options.quiet === true };
    if (parsed.options.help || parsed.options.version) return EXIT.OK;
    if (!cli.matchedCommand) {
      if (parsed.args.length > 0) throw new BootmediaError("BM1009", `unknown command "${parsed.args[0]}"`);
      cli.outputHelp();
      return EXIT.USAGE;
    }
    guard = (await import("./exit-guard.ts")).guardExits(() => mode);
    await cli.runMatchedCommand();
    return guard.settle(await (pending ?? Promise.resolve(EXIT.OK)));
  } catch (e) {
    const { reportFailure } = await import("./failure.ts");
    const status = reportFailure(e, mode);
    return guard ? guard.settle(status) : status;
  }
}

/**
 * Signals: remove temporaries, leave old outputs untouched, exit 130/143; the build sees the
 * interruption and never claims success. The first signal removes both handlers, so a second
 * SIGINT or SIGTERM takes the default action and ends the process whatever it is stuck in
 * (even an exit waiting for a thread-pool read that never returns).
 */
export function installSignalHandlers(): void {
  // Node ignores SIGXFSZ, so a write past the file-size limit (ulimit -f) fails with EFBIG and
  // ends as a coded error. Once a child process has started, execa's exit hook (signal-exit)
  // listens for SIGXFSZ too, and re-raises it when no one else does: the process then died
  // with no message, leaving its temporaries. A listener of ours keeps it a plain EFBIG.
  process.on("SIGXFSZ", () => {});
  const signals = [
    ["SIGINT", EXIT.SIGINT],
    ["SIGTERM", EXIT.SIGTERM],
  ] as const;
  const handlers = signals.map(([sig, code]) => {
    const handler = () => {
      for (const [s, h] of handlers) process.removeListener(s, h);
      void Promise.all([import("../core/output.ts"), import("../core/interrupt.ts"), import("../core/codes.ts")]).then(
        ([{ abortAllOutputs, outputsCommitted }, { markInterrupted }, { CORE_CODES }]) => {
          markInterrupted(sig);
          const sweep = abortAllOutputs();
          const what = outputsCommitted()
            ? "after its outputs were complete and in place"
            : "previous outputs are untouched";
          process.stderr.write(
            `\nerror BM4003 build interrupted by ${sig}; ${what}\n  hint: ${CORE_CODES.BM4003.hint}\n`,
          );
          // I/O already handed to the thread pool may still land; sweep once it has, then exit.
          setTimeout(() => {
            sweep();
            process.exit(code);
          }, 150);
        },
      );
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
}
