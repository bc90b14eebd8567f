/**
 * Coded errors of this plugin. The hint defaults to DP_CODES so the plugin works before
 * (and after) the table is merged into core/error-codes.ts.
 */
import { BootmediaError, type ErrorCode } from "../../base/errors.ts";
import { DP_CODES, type DpCode } from "../../core/codes/dp.ts";

export function dpError(code: DpCode, message: string, opts: { hint?: string; where?: string; cause?: unknown } = {}): BootmediaError {
  return new BootmediaError(code as ErrorCode, message, { ...opts, hint: opts.hint ?? DP_CODES[code].hint });
}
