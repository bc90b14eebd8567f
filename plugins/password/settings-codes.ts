/** Coded errors and diagnostics of the deployment-settings plugins (password, secrets, certificates). */
import { BootmediaError, type ErrorCode } from "../../base/errors.ts";
import { diagnostic, type Diagnostic, type Severity } from "../../base/diagnostics.ts";

/** Declared in the raising plugin's codes.ts (password, secrets, certificates). */
export type SettingsCode = ErrorCode;

export function settingsError(code: SettingsCode, message: string, opts: { where?: string; hint?: string; cause?: unknown } = {}): BootmediaError {
  return new BootmediaError(code, message, opts);
}

export function settingsDiagnostic(code: SettingsCode, message: string, opts: { severity?: Severity; path?: string; source?: string } = {}): Diagnostic {
  return diagnostic(code, message, opts);
}

/** A coded error as a diagnostic (validate taps report instead of throwing). */
export function diagnosticOf(e: unknown, path: string, source: string): Diagnostic {
  if (e instanceof BootmediaError) return diagnostic(e.code, e.message, { path, source, hint: e.hint });
  throw e;
}
