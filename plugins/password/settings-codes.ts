/**
 * Coded errors and diagnostics for the deployment-settings plugins (password, secrets,
 * certificates), from core/codes/settings.ts. The hint is always passed explicitly, so
 * these work before and after SETTINGS_CODES is merged into core/error-codes.ts.
 */
import { BootmediaError, type ErrorCode } from "../../base/errors.ts";
import { diagnostic, type Diagnostic, type Severity } from "../../base/diagnostics.ts";
import { SETTINGS_CODES } from "../../core/codes/settings.ts";

export type SettingsCode = keyof typeof SETTINGS_CODES;

// Until the lead merges SETTINGS_CODES into ERROR_CODES, the type does not list them.
const asErrorCode = (code: SettingsCode) => code as string as ErrorCode;

export function settingsError(code: SettingsCode, message: string, opts: { where?: string; hint?: string; cause?: unknown } = {}): BootmediaError {
  return new BootmediaError(asErrorCode(code), message, { ...opts, hint: opts.hint ?? SETTINGS_CODES[code].hint });
}

export function settingsDiagnostic(code: SettingsCode, message: string, opts: { severity?: Severity; path?: string; source?: string } = {}): Diagnostic {
  return diagnostic(asErrorCode(code), message, { ...opts, hint: SETTINGS_CODES[code].hint });
}

/** A coded error as a diagnostic (validate taps report instead of throwing). */
export function diagnosticOf(e: unknown, path: string, source: string): Diagnostic {
  if (e instanceof BootmediaError) return diagnostic(e.code, e.message, { path, source, hint: e.hint });
  throw e;
}
