/**
 * The bootmedia command line. The only place that calls process.exit.
 * Exit codes: 0 ok; 1 the build found problems (coded errors); 2 usage; 3 internal error;
 * 130/143 interrupted by SIGINT/SIGTERM (outputs untouched).
 */
import { cac } from "cac";
import { abortAllOutputs } from "../core/output.ts";
import { BootmediaError } from "../base/errors.ts";
import { redactEverywhere } from "../core/secrets.ts";
import { diagnosticsOf, printDiagnostics, printJson, type OutputMode } from "./render.ts";
import { specFlags, flagSyntax } from "../core/spec/flags.ts";
import { registerBuildCommands } from "./commands/build.ts";
import { registerInspectCommand } from "./commands/inspect.ts";
import { registerDoctorCommand } from "./commands/doctor.ts";
import { registerImageCommand } from "./commands/image.ts";
import { registerDpCommands } from "./commands/dp.ts";
import { registerCacheCommands } from "./commands/cache.ts";
import { registerTestbedCommand } from "./commands/testbed.ts";
import { registerDiffCommand } from "./commands/diff.ts";
import { registerInitCommand } from "./commands/init.ts";

export const EXIT = { OK: 0, PROBLEMS: 1, USAGE: 2, INTERNAL: 3, SIGINT: 130, SIGTERM: 143 } as const;

/** Adds every spec-mirroring flag to a command (help text derived from the schema). */
export function addSpecFlags(cmd: ReturnType<ReturnType<typeof cac>["command"]>): void {
  for (const f of specFlags()) for (const syntax of flagSyntax(f)) {
    if (syntax.startsWith("--no-")) continue; // cac derives --no-x from --x
    cmd.option(syntax, f.description);
  }
}

export async function main(argv: string[]): Promise<number> {
  const cli = cac("bootmedia");
  let mode: OutputMode = { json: false, quiet: false };
  let pending: Promise<number> | undefined;
  const run = (fn: () => Promise<number>) => {
    pending = fn();
  };
  registerBuildCommands(cli, run);
  registerInspectCommand(cli, run);
  registerDoctorCommand(cli, run);
  registerImageCommand(cli, run);
  registerDpCommands(cli, run);
  registerCacheCommands(cli, run);
  registerTestbedCommand(cli, run);
  registerDiffCommand(cli, run);
  registerInitCommand(cli, run);
  cli.option("--json", "Machine-readable output on stdout").option("--quiet", "No progress output");
  cli.help();
  cli.version("0.1.0");
  try {
    const parsed = cli.parse(argv, { run: false });
    mode = { json: parsed.options.json === true, quiet: parsed.options.quiet === true };
    if (parsed.options.help || parsed.options.version) return EXIT.OK;
    if (!cli.matchedCommand) {
      if (parsed.args.length > 0) throw new BootmediaError("BM1009", `unknown command "${parsed.args[0]}"`);
      cli.outputHelp();
      return EXIT.USAGE;
    }
    await cli.runMatchedCommand();
    return await (pending ?? Promise.resolve(EXIT.OK));
  } catch (e) {
    return reportFailure(e, mode);
  }
}

export function reportFailure(e: unknown, mode: OutputMode): number {
  abortAllOutputs();
  const usage = e instanceof Error && /Unknown option|missing required args|value is missing/.test(e.message) && !(e instanceof BootmediaError);
  if (usage || (e instanceof BootmediaError && e.code === "BM1009")) {
    const message = e instanceof Error ? e.message : String(e);
    if (mode.json) printJson({ ok: false, error: { code: "BM1009", message } });
    else process.stderr.write(redactEverywhere(`error BM1009 ${message}`) + "\n  hint: run `bootmedia --help`\n");
    return EXIT.USAGE;
  }
  const diags = diagnosticsOf(e);
  if (diags.length > 0) {
    if (mode.json) printJson({ ok: false, diagnostics: diags });
    else printDiagnostics(diags);
    return EXIT.PROBLEMS;
  }
  process.stderr.write(redactEverywhere(`internal error (a bug in bootmedia or a plugin): ${e instanceof Error ? (process.env.DEBUG ? e.stack : e.message) : String(e)}`) + "\n");
  return EXIT.INTERNAL;
}

/** Signals: remove temporaries synchronously, leave old outputs untouched, exit 130/143. */
export function installSignalHandlers(): void {
  for (const [sig, code] of [["SIGINT", EXIT.SIGINT], ["SIGTERM", EXIT.SIGTERM]] as const) {
    process.on(sig, () => {
      const sweep = abortAllOutputs();
      process.stderr.write(`\nerror BM4003 build interrupted by ${sig}; previous outputs are untouched\n`);
      // I/O already handed to the thread pool may still land; sweep once it has, then exit.
      setTimeout(() => {
        sweep();
        process.exit(code);
      }, 150);
    });
  }
}
