/**
 * Whether SIGINT/SIGTERM arrived. Set by the CLI's signal handler; read by core before it
 * commits outputs and before it says a build succeeded, so an interrupted build never
 * claims to have written anything.
 */
import { BootmediaError } from "../base/errors.ts";
import "./codes.ts";

let received: NodeJS.Signals | undefined;

/** @lazy cli/main.ts's signal handler imports it dynamically (in a Promise.all knip does not follow). */
export function markInterrupted(signal: NodeJS.Signals): void {
  received ??= signal;
}

export function interruptedBy(): NodeJS.Signals | undefined {
  return received;
}

export function assertNotInterrupted(): void {
  if (received) throw new BootmediaError("BM4003", `build interrupted by ${received}; previous outputs are untouched`);
}
