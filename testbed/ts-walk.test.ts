import { describe, expect, it } from "vitest";
import { parseStepsText } from "../core/task-sequence/load.ts";
import { flattenSteps } from "../core/task-sequence/wire.ts";
import { walkReference } from "./ts-walk.ts";

const flat = (yaml: string) => flattenSteps(parseStepsText(yaml, "steps.yaml").steps);
const codes = (byIndex: Record<number, number>, outcomes: Record<number, "success" | "failure"> = {}) => ({
  exitCode: (i: number) => byIndex[i],
  ran: () => undefined,
  outcome: (i: number) => outcomes[i],
});
const states = (w: ReturnType<typeof walkReference>) => [...w.states].sort((a, b) => a[0] - b[0]).map((e) => e[1]);

describe("the reference walk", () => {
  it("a failing command with continueOnError counts as a failure and the sequence goes on", () => {
    const steps = flat(
      "steps:\n  - { name: A, type: run-command, command: 'echo hi' }\n  - { name: B, type: set-variable, variable: X, value: '1' }\n  - { name: C, type: run-command, command: 'exit 3', continueOnError: true }",
    );
    const w = walkReference(steps, new Map(), codes({ 1: 0, 3: 3 }));
    expect(states(w)).toEqual(["success", "success", "failure"]);
    expect(w).toMatchObject({ failed: 1, undecided: [] });
    expect(w.fatal).toBeUndefined();
  });

  it("a failure without continueOnError ends the sequence: later steps never run", () => {
    const steps = flat(
      "steps:\n  - { name: A, type: run-command, command: 'exit 2' }\n  - { name: B, type: run-command, command: 'true' }",
    );
    const w = walkReference(steps, new Map(), codes({ 1: 2 }));
    expect(states(w)).toEqual(["failure", "not-run"]);
    expect(w.fatal?.name).toBe("A");
  });

  it("a group that continues on error ends at its first failure; conditions read set variables", () => {
    const steps = flat(
      [
        "steps:",
        "  - { name: S, type: set-variable, variable: Role, value: 'web-%Site%' }",
        "  - name: G",
        "    type: group",
        "    continueOnError: true",
        "    steps:",
        "      - { name: G1, type: run-command, command: 'false' }",
        "      - { name: G2, type: run-command, command: 'true' }",
        "  - { name: W, type: run-command, command: 'true', condition: { variable: Role, equals: 'web-%Site%' } }",
        "  - { name: N, type: run-command, command: 'true', condition: { variable: Missing, exists: true } }",
        "  - { name: M, type: run-command, command: 'true', condition: { variable: Secret, equals: 'x' } }",
      ].join("\n"),
    );
    const w = walkReference(
      steps,
      new Map([
        ["Site", "north"],
        ["Secret", undefined],
      ]),
      {
        exitCode: (i) => ({ 3: 1, 5: 0, 7: 0 })[i],
        ran: (i) => (i === 7 ? true : undefined),
        outcome: () => undefined,
      },
    );
    expect(states(w)).toEqual(["success", "failure", "failure", "skipped", "success", "skipped", "success"]);
    expect(w).toMatchObject({ failed: 2, undecided: [7] }); // G1 and its group
  });

  const DEPLOY = [
    "steps:",
    "  - { name: Disk, type: select-disk }",
    "  - { name: Apply, type: apply-image, package: OSI00064 }",
    "  - { name: Only on NVMe, type: run-command, command: 'true', condition: { variable: OSDTargetDisk, equals: /dev/nvme0n1 } }",
    "  - { name: Name, type: write-files }",
    "  - { name: Restart, type: restart }",
    "  - { name: After, type: run-command, command: 'true' }",
  ].join("\n");

  it("disk steps end as the engine reported; the chosen disk is unknown; nothing runs after a restart", () => {
    const w = walkReference(
      flat(DEPLOY),
      new Map(),
      codes({ 3: 0 }, { 1: "success", 2: "success", 4: "success", 5: "success" }),
    );
    expect(states(w)).toEqual(["success", "success", "success", "success", "success", "skipped"]);
    expect(w.undecided).toEqual([3]); // a condition on OSDTargetDisk: the value is the machine's
  });

  it("a failed apply-image ends the sequence: the disk steps after it never run", () => {
    const w = walkReference(flat(DEPLOY), new Map(), codes({}, { 1: "success", 2: "failure" }));
    expect(states(w)).toEqual(["success", "failure", "not-run", "not-run", "not-run", "not-run"]);
    expect(w.fatal?.name).toBe("Apply");
  });

  it("a disk step the engine never reported is undecided, and nothing after it is judged", () => {
    const w = walkReference(flat(DEPLOY), new Map(), codes({}, { 1: "success" }));
    expect(states(w).slice(0, 2)).toEqual(["success", "not-run"]);
    expect(w.undecided).toEqual([2]);
  });
});
