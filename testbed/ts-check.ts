/**
 * A task-sequence case's verdict: the engine's step markers, the management point's status
 * log and the reference walk (ts-walk.ts) must tell one story. The expected end (done, or the
 * task sequence failing at a step) is derived from the steps and the exit codes the engine
 * reported, never written in the case.
 */
import type { FlatStep } from "../core/task-sequence/wire.ts";
import type { Marker } from "./markers.ts";
import { walkReference, type StepState } from "./ts-walk.ts";

/** One status event as the MP stored it (accepted once per seq). */
export interface MpStepEvent {
  seq: number;
  step: number;
  state: string;
  exitCode?: number;
  /** When the MP accepted it (ms since 1970). */
  at: number;
}

export interface TimelineRow {
  index: number;
  name: string;
  type: string;
  depth: number;
  state: StepState;
  exitCode?: number;
  /** From the MP's log (ms since 1970); absent for a step that never started. */
  start?: number;
  end?: number;
}

interface TaskSequenceJudgement {
  /** What the boot must end in: `done` after task-sequence-done, or the failure at a step. */
  expected: { status: "pass" } | { status: "fail"; reason: "task-sequence-failed"; step: number };
  /** Disagreements between the engine, the MP's log and the reference walk; empty when they agree. */
  problems: string[];
  timeline: TimelineRow[];
}

const TERMINAL = new Set(["success", "failure", "skipped"]);

export function judgeTaskSequence(
  steps: readonly FlatStep[],
  variables: ReadonlyMap<string, string | undefined>,
  markers: readonly Marker[],
  mpEvents: readonly MpStepEvent[],
): TaskSequenceJudgement {
  const engine = new Map<number, { state: string; exitCode?: number }>();
  for (const m of markers) {
    if (m.event !== "step" || typeof m.index !== "number" || typeof m.state !== "string") continue;
    if (TERMINAL.has(m.state))
      engine.set(m.index, { state: m.state, ...(typeof m.exitCode === "number" ? { exitCode: m.exitCode } : {}) });
  }
  const walk = walkReference(steps, variables, {
    exitCode: (i) => engine.get(i)?.exitCode,
    ran: (i) => (engine.has(i) ? engine.get(i)!.state !== "skipped" : undefined),
    outcome: (i) => {
      const state = engine.get(i)?.state;
      return state === "success" || state === "failure" ? state : undefined;
    },
  });
  const problems: string[] = [];
  for (const s of steps) {
    const want = walk.states.get(s.index) ?? "not-run";
    const got = engine.get(s.index)?.state ?? "not-run";
    if (want !== got) problems.push(`step ${s.index} (${s.name}): the engine says ${got}, the steps say ${want}`);
  }
  // The MP's log: every terminal state the engine reported, exactly once, and nothing else.
  const byStep = new Map<number, MpStepEvent[]>();
  const seqs = new Set<number>();
  for (const e of mpEvents) {
    if (seqs.has(e.seq)) problems.push(`the MP stored event ${e.seq} twice`);
    seqs.add(e.seq);
    byStep.set(e.step, [...(byStep.get(e.step) ?? []), e]);
  }
  for (const s of steps) {
    const terminal = (byStep.get(s.index) ?? []).filter((e) => TERMINAL.has(e.state));
    const got = engine.get(s.index)?.state;
    if (got === undefined) {
      if (terminal.length > 0)
        problems.push(`step ${s.index}: the MP logged ${terminal[0]!.state}, the engine never ended it`);
      continue;
    }
    if (terminal.length !== 1 || terminal[0]!.state !== got)
      problems.push(
        `step ${s.index} (${s.name}): the MP logged ${terminal.map((e) => e.state).join(", ") || "nothing"}, the engine ${got}`,
      );
  }
  const end = (byStep.get(0) ?? []).filter((e) => TERMINAL.has(e.state));
  const expectedEnd = walk.fatal ? "failure" : "success";
  if (end.length !== 1 || end[0]!.state !== expectedEnd)
    problems.push(
      `the task sequence's end: the MP logged ${end.map((e) => e.state).join(", ") || "nothing"}, the steps say ${expectedEnd}`,
    );
  const done = markers.find((m) => m.event === "task-sequence-done");
  if (!walk.fatal && done && (done.steps !== steps.length || done.failed !== walk.failed))
    problems.push(
      `task-sequence-done says ${String(done.steps)} steps, ${String(done.failed)} failed; the steps say ${steps.length}, ${walk.failed}`,
    );
  const error = markers.find((m) => m.event === "error");
  if (walk.fatal && error?.reason === "task-sequence-failed" && error.step !== walk.fatal.index)
    problems.push(`the failure screen names step ${String(error.step)}, the steps say ${walk.fatal.index}`);
  if (walk.undecided.some((i) => steps[i - 1]!.type === "run-command" && walk.states.get(i) === "not-run"))
    problems.push(`the engine reported no exit code for step ${walk.undecided.join(", ")}`);
  const depthOf = (s: FlatStep): number => (s.parent === 0 ? 0 : 1 + depthOf(steps[s.parent - 1]!));
  const timeline = steps.map((s): TimelineRow => {
    const events = byStep.get(s.index) ?? [];
    const start = events.find((e) => e.state === "start")?.at;
    const end = events.find((e) => TERMINAL.has(e.state))?.at;
    const exitCode = engine.get(s.index)?.exitCode;
    return {
      index: s.index,
      name: s.name,
      type: s.type,
      depth: depthOf(s),
      state: walk.states.get(s.index) ?? "not-run",
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(start !== undefined ? { start } : {}),
      ...(end !== undefined ? { end } : {}),
    };
  });
  return {
    expected: walk.fatal
      ? { status: "fail", reason: "task-sequence-failed", step: walk.fatal.index }
      : { status: "pass" },
    problems,
    timeline,
  };
}
