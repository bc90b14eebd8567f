/** How results and errors reach a person or a program: text, JSON, colours (NO_COLOR). */
import { formatDiagnostic, type Diagnostic } from "../../base/diagnostics.ts";
import { BootmediaError } from "../../base/errors.ts";
import { DiagnosticsError } from "../../base/diagnostics.ts";
import { redactEverywhere } from "../../core/secrets.ts";
import { plainProgress, silentProgress, ttyProgress, type Progress } from "../../core/progress.ts";

export interface OutputMode {
  json: boolean;
  quiet: boolean;
}

const useColor = () => !process.env.NO_COLOR && process.stderr.isTTY === true && process.env.TERM !== "dumb";
const paint = (code: string, s: string) => (useColor() ? `\x1b[${code}m${s}\x1b[0m` : s);
const red = (s: string) => paint("31", s);
const yellow = (s: string) => paint("33", s);

/** Progress goes to stderr: live on a terminal, plain (or JSON) lines otherwise. */
export function progressFor(mode: OutputMode): Progress {
  if (mode.quiet) return silentProgress;
  if (mode.json) return plainProgress(process.stderr, true);
  return process.stderr.isTTY && !process.env.CI ? ttyProgress(process.stderr) : plainProgress(process.stderr);
}

export function diagnosticsOf(e: unknown): Diagnostic[] {
  if (e instanceof DiagnosticsError) return e.diagnostics;
  if (e instanceof BootmediaError) {
    const where =
      e.where ?? [(e as { hook?: string }).hook, (e as { plugin?: string }).plugin].filter(Boolean).join(" ▸ ");
    return [{ code: e.code, severity: "error", message: e.message, hint: e.hint, ...(where ? { path: where } : {}) }];
  }
  return [];
}

export function printDiagnostics(list: Diagnostic[]): void {
  for (const d of list) {
    const text = redactEverywhere(formatDiagnostic(d));
    process.stderr.write((d.severity === "error" ? red(text) : d.severity === "warning" ? yellow(text) : text) + "\n");
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(redactEverywhere(JSON.stringify(value, null, 2)) + "\n");
}
