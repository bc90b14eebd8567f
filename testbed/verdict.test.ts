import { describe, it, expect } from "vitest";
import { decideVerdict, matchesExpected, EXPECTED_FAILURES, type RunObservation } from "./verdict.ts";
import { FAILURE_SIGNATURES } from "./markers.ts";

const base: RunObservation = {
  markers: [],
  exitStatus: null,
  timedOut: false,
  silent: false,
  timeoutSec: 60,
  silenceSec: 20,
};
const done = [{ event: "booted" }, { event: "done" }];

describe("decideVerdict", () => {
  it("passes only on the done marker plus the distinct success exit", () => {
    expect(decideVerdict({ ...base, markers: done, exitStatus: 99 })).toEqual({ status: "pass" });
  });

  it("never reads a clean power-off as a pass, even after done", () => {
    expect(decideVerdict({ ...base, markers: done, exitStatus: 0 })).toMatchObject({
      status: "fail",
      reason: "no-success-exit",
    });
    expect(decideVerdict({ ...base, markers: [], exitStatus: 99 })).toMatchObject({
      status: "fail",
      reason: "exit-without-done",
    });
  });

  it("passes a locked-down kernel's power-off only when its done marker names that end", () => {
    const lockedDone = [
      { event: "booted", lockdown: "integrity" },
      { event: "done", exit: "poweroff", lockdown: "integrity" },
    ];
    expect(decideVerdict({ ...base, markers: lockedDone, exitStatus: 0 })).toEqual({ status: "pass" });
    // A done marker claiming no lockdown, or no exit, is no licence to power off.
    expect(
      decideVerdict({ ...base, markers: [{ event: "done", exit: "poweroff", lockdown: "none" }], exitStatus: 0 }),
    ).toMatchObject({ reason: "no-success-exit" });
    expect(
      decideVerdict({ ...base, markers: [{ event: "done", lockdown: "integrity" }], exitStatus: 0 }),
    ).toMatchObject({ reason: "no-success-exit" });
    // QEMU killed by the testbed, or a crash status, never passes.
    expect(decideVerdict({ ...base, markers: lockedDone, exitStatus: null })).toMatchObject({ status: "fail" });
    expect(decideVerdict({ ...base, markers: lockedDone, exitStatus: 1 })).toMatchObject({ status: "fail" });
    // An error marker outranks it.
    expect(
      decideVerdict({ ...base, markers: [...lockedDone, { event: "error", reason: "no-nic-driver" }], exitStatus: 0 }),
    ).toMatchObject({ reason: "no-nic-driver" });
  });

  it("lets a timeout outrank a pass", () => {
    expect(decideVerdict({ ...base, markers: done, exitStatus: 99, timedOut: true })).toMatchObject({
      status: "fail",
      reason: "timeout",
    });
  });

  it("fails a silent serial port, and takes the boot environment's own reason first", () => {
    expect(decideVerdict({ ...base, silent: true })).toMatchObject({ reason: "no-serial-output" });
    const panic = FAILURE_SIGNATURES.find((s) => s.id === "kernel-panic")!;
    const run = {
      ...base,
      markers: [{ event: "error", reason: "no-nic-driver" }],
      failure: { signature: panic, line: "Kernel panic" },
    };
    expect(decideVerdict(run)).toMatchObject({ status: "fail", reason: "no-nic-driver" });
    expect(decideVerdict({ ...run, markers: [] })).toMatchObject({ status: "fail", reason: "kernel-panic" });
  });
});

describe("decideVerdict with a pass pattern", () => {
  const passMatch = { source: "screen", pattern: "Select a language", text: "[!!] Select a language" } as const;

  it("passes on the pattern alone: no done marker, no success exit", () => {
    expect(decideVerdict({ ...base, passMatch })).toEqual({ status: "pass" });
  });

  it("still ranks a timeout, silence, an error marker and a failure signature above it", () => {
    const panic = FAILURE_SIGNATURES.find((s) => s.id === "kernel-panic")!;
    expect(decideVerdict({ ...base, passMatch, timedOut: true })).toMatchObject({ reason: "timeout" });
    expect(decideVerdict({ ...base, passMatch, silent: true })).toMatchObject({ reason: "no-serial-output" });
    expect(decideVerdict({ ...base, passMatch, markers: [{ event: "error", reason: "needs-x64-cpu" }] })).toMatchObject(
      { reason: "needs-x64-cpu" },
    );
    expect(decideVerdict({ ...base, passMatch, failure: { signature: panic, line: "Kernel panic" } })).toMatchObject({
      reason: "kernel-panic",
    });
  });

  it("says why a screen pattern could not look when the case timed out", () => {
    const note = "the screen was in graphics mode (800×600); a screen pattern reads VGA text mode only";
    expect(decideVerdict({ ...base, timedOut: true, screenNote: note })).toMatchObject({
      reason: "timeout",
      detail: expect.stringContaining("graphics mode"),
    });
  });
});

describe("matchesExpected", () => {
  it("is OK in either direction and only then", () => {
    const pass = { status: "pass" } as const;
    expect(matchesExpected(pass, pass)).toBe(true);
    for (const reason of EXPECTED_FAILURES) {
      const expected = { status: "fail", reason } as const;
      expect(matchesExpected(expected, { status: "fail", reason, detail: "" })).toBe(true);
      expect(matchesExpected(expected, pass)).toBe(false);
      expect(matchesExpected(pass, { status: "fail", reason, detail: "" })).toBe(false);
      expect(matchesExpected(expected, { status: "fail", reason: "timeout", detail: "" })).toBe(false);
    }
  });
});
