/**
 * A case whose policy carries a task sequence: what the testbed knows before the boot (the
 * steps and the variables the engine starts with, from the site and the media) and how it
 * turns the run into a verdict (ts-check.ts) — the expected end comes from the steps and the
 * exit codes the engine reported, never from the case.
 */
import type { FlatStep } from "../core/task-sequence/wire.ts";
import type { Marker } from "./markers.ts";
import type { CaseMpLog } from "./mp-case.ts";
import type { Actual, Expected } from "./verdict.ts";
import { judgeTaskSequence, type TimelineRow } from "./ts-check.ts";

export interface CaseTaskSequence {
  deploymentId: string;
  steps: FlatStep[];
  /** The engine's starting variables; a secret one is present with its value unknown (undefined). */
  variables: Map<string, string | undefined>;
}

/** What the report shows of a task-sequence case. */
export interface CaseTaskSequenceReport {
  deploymentId: string;
  timeline: TimelineRow[];
  /** Where the engine, the MP's log and the steps disagreed. */
  problems: string[];
}

/** The starting variables, lowest precedence first: the media's, its secret ones, the policy's, the engine's own. */
export function startingVariables(parts: {
  media: Record<string, string>;
  secretNames: readonly string[];
  policy: Record<string, string>;
  computer: string;
  engine: Record<string, string>;
}): Map<string, string | undefined> {
  const vars = new Map<string, string | undefined>([["OSDComputerName", parts.computer]]);
  for (const [k, v] of Object.entries(parts.media)) vars.set(k, v);
  for (const k of parts.secretNames) vars.set(k, undefined);
  for (const [k, v] of Object.entries(parts.policy)) vars.set(k, v);
  for (const [k, v] of Object.entries(parts.engine)) vars.set(k, v);
  return vars;
}

/**
 * The case's expected outcome and verdict once the machine stopped: the steps decide whether
 * the boot must end in `done` or in `task-sequence-failed`; any disagreement among the three
 * witnesses makes the run a `task-sequence-mismatch`.
 */
export function judgeTaskSequenceCase(
  ts: CaseTaskSequence,
  markers: readonly Marker[],
  mps: readonly CaseMpLog[],
  actual: Actual,
): { expected: Expected; actual: Actual; report: CaseTaskSequenceReport } {
  const ofDeployment = mps.flatMap((mp) => mp.status ?? []).filter((e) => e.deploymentId === ts.deploymentId);
  // One boot is one run; an MP that served earlier runs of the deployment holds theirs too: the last run started is this boot's.
  const run = ofDeployment.at(-1)?.run;
  const events = ofDeployment
    .filter((e) => e.run === run)
    .map((e) => ({
      seq: e.seq,
      step: e.step,
      state: e.state,
      at: e.at * 1000,
      ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
    }));
  const j = judgeTaskSequence(ts.steps, ts.variables, markers, events);
  const expected: Expected =
    j.expected.status === "pass" ? { status: "pass" } : { status: "fail", reason: "task-sequence-failed" };
  // A run that already failed otherwise (timeout, panic) keeps its own reason.
  const agreed = actual.status === "pass" || actual.reason === "task-sequence-failed";
  const judged: Actual =
    agreed && j.problems.length > 0
      ? { status: "fail", reason: "task-sequence-mismatch", detail: j.problems.join("; ") }
      : actual;
  return {
    expected,
    actual: judged,
    report: { deploymentId: ts.deploymentId, timeline: j.timeline, problems: j.problems },
  };
}
