/**
 * Errors users can meet carry a stable code and a hint that says what to do.
 * Ranges: BM1xxx spec, BM2xxx content/fetch, BM3xxx validation, BM4xxx write, BM5xxx testbed.
 * Every code is declared once in ERROR_CODES (docs/errors.md is checked against it).
 */
import { ERROR_CODES, type ErrorCode } from "../core/error-codes.ts";

export { ERROR_CODES, type ErrorCode };

export class BootmediaError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  /** Where the problem is: a spec location ("media.yaml:4:3"), a file, a device. */
  readonly where?: string;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; where?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "BootmediaError";
    this.code = code;
    this.hint = opts.hint ?? ERROR_CODES[code].hint;
    this.where = opts.where;
  }
}

export function isBootmediaError(e: unknown): e is BootmediaError {
  return e instanceof BootmediaError;
}
