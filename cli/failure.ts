/** How a failed command reaches the user: usage errors (2), coded problems (1), bugs (3). */
import { BootmediaError } from "../base/errors.ts";
import { abortAllOutputs } from "../core/output.ts";
import { interruptedBy } from "../core/interrupt.ts";
import { redactEverywhere } from "../core/secrets.ts";
import { diagnosticsOf, printDiagnostics, printJson, type OutputMode } from "./commands/render.ts";
import { EXIT } from "./exit-codes.ts";
import "../core/codes.ts";

export function reportFailure(e: unknown, mode: OutputMode): number {
  abortAllOutputs();
  const usage =
    e instanceof Error &&
    /Unknown option|missing required args|value is missing/.test(e.message) &&
    !(e instanceof BootmediaError);
  if (usage || (e instanceof BootmediaError && e.code === "BM1009")) {
    const message = e instanceof Error ? e.message : String(e);
    if (mode.json) printJson({ ok: false, error: { code: "BM1009", message } });
    else process.stderr.write(redactEverywhere(`error BM1009 ${message}`) + "\n  hint: run `bootmedia --help`\n");
    return EXIT.USAGE;
  }
  // The signal handler has already said so, and sets the exit status.
  if (interruptedBy() && e instanceof BootmediaError && e.code === "BM4003") return EXIT.PROBLEMS;
  const diags = diagnosticsOf(e);
  if (diags.length > 0) {
    if (mode.json) printJson({ ok: false, diagnostics: diags });
    else printDiagnostics(diags);
    return EXIT.PROBLEMS;
  }
  process.stderr.write(
    redactEverywhere(
      `internal error (a bug in bootmedia or a plugin): ${e instanceof Error ? (process.env.DEBUG ? e.stack : e.message) : String(e)}`,
    ) + "\n",
  );
  return EXIT.INTERNAL;
}
