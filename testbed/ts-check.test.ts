import { describe, expect, it } from "vitest";
import { parseStepsText } from "../core/task-sequence/load.ts";
import { flattenSteps } from "../core/task-sequence/wire.ts";
import type { Marker } from "./markers.ts";
import { judgeTaskSequence, type MpStepEvent } from "./ts-check.ts";

const steps = flattenSteps(
  parseStepsText(
    "steps:\n  - { name: Hello, type: run-command, command: 'echo hi' }\n  - { name: Set, type: set-variable, variable: X, value: '1' }\n  - { name: Fails, type: run-command, command: 'exit 3', continueOnError: true }",
    "steps.yaml",
  ).steps,
);
const step = (index: number, state: string, exitCode?: number) => ({
  event: "step",
  index,
  of: 3,
  state,
  ...(exitCode !== undefined ? { exitCode } : {}),
});
const markers: Marker[] = [
  step(1, "start"),
  step(1, "success", 0),
  step(2, "start"),
  step(2, "success"),
  step(3, "start"),
  step(3, "failure", 3),
  { event: "task-sequence-done", steps: 3, failed: 1 },
];
let seq = 0;
const ev = (s: number, state: string, exitCode?: number): MpStepEvent => ({
  seq: ++seq,
  step: s,
  state,
  at: 1000 * seq,
  ...(exitCode !== undefined ? { exitCode } : {}),
});
const events = [
  ev(1, "start"),
  ev(1, "success", 0),
  ev(2, "start"),
  ev(2, "success"),
  ev(3, "start"),
  ev(3, "failure", 3),
  ev(0, "success"),
];

describe("a task-sequence case's verdict", () => {
  it("engine, MP log and reference walk agreeing: a pass with a step timeline", () => {
    const j = judgeTaskSequence(steps, new Map(), markers, events);
    expect(j).toMatchObject({ expected: { status: "pass" }, problems: [] });
    expect(j.timeline.map((r) => [r.name, r.state, r.start, r.end])).toEqual([
      ["Hello", "success", 1000, 2000],
      ["Set", "success", 3000, 4000],
      ["Fails", "failure", 5000, 6000],
    ]);
  });

  it("finds an engine that calls a failing exit code a success", () => {
    const lying = markers.map((m) =>
      m.event === "step" && m.index === 3 && m.state === "failure" ? step(3, "success", 3) : m,
    );
    expect(judgeTaskSequence(steps, new Map(), lying, events).problems).toContain(
      "step 3 (Fails): the engine says success, the steps say failure",
    );
  });

  it("finds an event the MP stored twice or never", () => {
    const twice = [...events, { ...events[5]!, seq: 99 }];
    expect(judgeTaskSequence(steps, new Map(), markers, twice).problems.join("\n")).toMatch(
      /step 3 \(Fails\): the MP logged failure, failure, the engine failure/,
    );
    const missing = events.filter((e) => e.step !== 2);
    expect(judgeTaskSequence(steps, new Map(), markers, missing).problems.join("\n")).toMatch(
      /step 2 \(Set\): the MP logged nothing, the engine success/,
    );
  });

  it("expects the failure at the step whose failure nothing continues", () => {
    const strict = flattenSteps(
      parseStepsText(
        "steps:\n  - { name: A, type: run-command, command: 'exit 1' }\n  - { name: B, type: run-command, command: 'true' }",
        "s",
      ).steps,
    );
    const j = judgeTaskSequence(
      strict,
      new Map(),
      [step(1, "start"), step(1, "failure", 1), { event: "error", reason: "task-sequence-failed", step: 1 }],
      [ev(1, "start"), ev(1, "failure", 1), ev(0, "failure")],
    );
    expect(j).toMatchObject({ expected: { status: "fail", reason: "task-sequence-failed", step: 1 }, problems: [] });
  });
});
