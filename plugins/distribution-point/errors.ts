/** Coded errors of this plugin (the table is ./codes.ts). */
import { BootmediaError } from "../../base/errors.ts";
import { DP_CODES } from "./codes.ts";

type DpCode = keyof typeof DP_CODES;

export function dpError(
  code: DpCode,
  message: string,
  opts: { hint?: string; where?: string; cause?: unknown } = {},
): BootmediaError {
  return new BootmediaError(code, message, opts);
}
