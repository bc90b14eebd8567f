/**
 * A diagnostic is a problem found in the spec, the content or the layout. Validation
 * collects them all (users fix five mistakes in one go, not one per run); any error
 * stops the build before a byte is written.
 */
import { BootmediaError, codeInfo, type ErrorCode } from "./errors.ts";

const SEVERITIES = ["error", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Diagnostic {
  code: ErrorCode;
  severity: Severity;
  /** Where: "media.yaml:4:3 (security.password)", a media path, a package id. */
  path?: string;
  message: string;
  hint: string;
  /** Which plugin reported it. */
  source?: string;
}

export function diagnostic(
  code: ErrorCode,
  message: string,
  opts: { severity?: Severity; path?: string; hint?: string; source?: string } = {},
): Diagnostic {
  return {
    code,
    severity: opts.severity ?? "error",
    message,
    hint: opts.hint ?? codeInfo(code)?.hint ?? "",
    ...(opts.path === undefined ? {} : { path: opts.path }),
    ...(opts.source === undefined ? {} : { source: opts.source }),
  };
}

/**
 * A coded error a plugin caught while checking (e.g. a writer's own plan) as a diagnostic,
 * so it is reported with the others; anything else is a bug and is rethrown.
 */
export function diagnosticFromError(e: unknown, source: string, path?: string): Diagnostic {
  if (!(e instanceof BootmediaError)) throw e;
  const where = path ?? e.where;
  return diagnostic(e.code, e.message, { hint: e.hint, source, ...(where === undefined ? {} : { path: where }) });
}

export function hasErrors(list: readonly Diagnostic[]): boolean {
  return list.some((d) => d.severity === "error");
}

/** Thrown when a stage ends with error diagnostics; carries all of them. */
export class DiagnosticsError extends BootmediaError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    const first = errors[0]!;
    super(first.code, `${errors.length} problem${errors.length === 1 ? "" : "s"} found`, { hint: first.hint });
    this.diagnostics = diagnostics;
  }
}

/** One line per diagnostic, for terminals and logs. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.path ? `${d.path}: ` : "";
  return `${d.severity} ${d.code} ${where}${d.message}\n  hint: ${d.hint}`;
}
