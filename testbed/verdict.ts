/**
 * Verdict rules: what a case's run shows (markers, failure signatures, QEMU's exit status,
 * timers) and whether that is what the compatibility rules predicted.
 */
import { DEBUG_EXIT } from "./profiles.ts";
import type { Marker, FailureSignature } from "./markers.ts";
import type { PassMatch } from "./pass-pattern.ts";

/**
 * Reasons a case can be expected to fail: core/compat.ts, the NIC-driver rule, and the
 * deployment settings a media under test may be meant to stop on (MediaUnderTest.expectFailure).
 */
export const EXPECTED_FAILURES = [
  "needs-x64-cpu",
  "no-boot-file",
  "no-nic-driver",
  // core/secure-boot.ts: the firmware or shim refused the media's boot chain.
  "secure-boot-refused",
  "wrong-password",
  "password-timeout",
  "prestart-failed",
  "secrets-tampered",
  // The management-point step (plugins/boot-image/agent/lib/mp.sh): what the MPs answered.
  "unknown-computer",
  "no-deployment",
  "certificate-rejected",
  "no-mp-reachable",
  // The task-sequence engine (agent/lib/ts.sh): a step failed and nothing continued on error.
  "task-sequence-failed",
] as const;
export type ExpectedFailure = (typeof EXPECTED_FAILURES)[number];

export type Expected = { status: "pass" } | { status: "fail"; reason: ExpectedFailure };

/** Why a run did not pass; beyond the expected reasons, the runner's own findings. */
export type Actual = { status: "pass" } | { status: "fail"; reason: string; detail: string };

export interface RunObservation {
  markers: readonly Marker[];
  /** First failure signature seen on the serial console. */
  failure?: { signature: FailureSignature; line: string };
  /** QEMU's exit status; null when the testbed stopped it. */
  exitStatus: number | null;
  timedOut: boolean;
  /** Nothing at all came out of the serial port within the silence limit. */
  silent: boolean;
  timeoutSec: number;
  silenceSec: number;
  /** The case's pass pattern matched (serial line or screen) before the machine was stopped. */
  passMatch?: PassMatch;
  /** Why a screen pattern could not look (the screen was a framebuffer); said with a timeout. */
  screenNote?: string;
}

/** The done marker of a locked-down kernel: `{"event":"done","exit":"poweroff","lockdown":"integrity"}`. */
function lockedDownPowerOff(done: Marker | undefined): boolean {
  return done?.exit === "poweroff" && typeof done.lockdown === "string" && done.lockdown !== "none";
}

/** Order matters: a timeout outranks everything, a clean exit never reads as a pass. */
export function decideVerdict(run: RunObservation): Actual {
  if (run.timedOut) {
    return {
      status: "fail",
      reason: "timeout",
      detail: `no verdict within ${run.timeoutSec} s${run.screenNote ? ` (${run.screenNote})` : ""}`,
    };
  }
  if (run.silent) {
    return { status: "fail", reason: "no-serial-output", detail: `no serial byte within ${run.silenceSec} s` };
  }
  const error = run.markers.find((m) => m.event === "error");
  if (error) {
    const reason = typeof error.reason === "string" ? error.reason : "unknown";
    return { status: "fail", reason, detail: `boot environment reported ${JSON.stringify(error)}` };
  }
  if (run.failure) {
    return {
      status: "fail",
      reason: run.failure.signature.reason,
      detail: `${run.failure.signature.id}: ${run.failure.line.trim()}`,
    };
  }
  // An image without the bootmedia agent prints no done marker; its pass pattern stands in.
  if (run.passMatch) return { status: "pass" };
  const doneMarker = run.markers.find((m) => m.event === "done");
  const done = doneMarker !== undefined;
  if (run.exitStatus === DEBUG_EXIT.successStatus && done) return { status: "pass" };
  // A kernel locked down by Secure Boot refuses the success port: its done marker says so and
  // names the power-off it ends with (QEMU exits 0); a failure's power-off follows an error marker.
  if (run.exitStatus === 0 && lockedDownPowerOff(doneMarker)) return { status: "pass" };
  if (run.exitStatus === DEBUG_EXIT.successStatus) {
    return { status: "fail", reason: "exit-without-done", detail: "success exit without a done marker" };
  }
  return {
    status: "fail",
    reason: "no-success-exit",
    detail: `QEMU exited with status ${run.exitStatus ?? "none"}${done ? " after the done marker" : ""} (a pass exits with ${DEBUG_EXIT.successStatus})`,
  };
}

/** A case is OK when what happened is what the rules predicted, in either direction. */
export function matchesExpected(expected: Expected, actual: Actual): boolean {
  if (expected.status === "pass") return actual.status === "pass";
  return actual.status === "fail" && actual.reason === expected.reason;
}

/** Short human label: "pass" or "fail: needs-x64-cpu". */
export function describeOutcome(o: Expected | Actual): string {
  return o.status === "pass" ? "pass" : `fail: ${o.reason}`;
}
