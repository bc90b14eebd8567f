/**
 * The testbed's own reading of a task sequence: which steps must run, be skipped or never
 * run, given the exit codes the engine reports for its commands. Written from
 * docs/task-sequences.md, apart from the engine (plugins/boot-image/agent/lib/ts.sh), so a
 * case's verdict compares the engine's walk with this one instead of trusting it.
 */
import type { FlatStep } from "../core/task-sequence/wire.ts";

export type StepState = "success" | "failure" | "skipped" | "not-run";

interface ReferenceWalk {
  /** Every step's state by index (1-based); groups too. */
  states: Map<number, StepState>;
  /** Steps in failure: commands (continued or not) and the groups a failure reached. */
  failed: number;
  /** The step whose failure ended the task sequence, if one did. */
  fatal?: FlatStep;
  /** Steps the walk could not judge: an exit code the engine never reported, a condition on a secret. */
  undecided: number[];
}

interface EngineReport {
  /** The exit code the engine reported for a run-command step (undefined: not reported). */
  exitCode(index: number): number | undefined;
  /** Whether the engine ran (true) or skipped (false) a step, for conditions the walk cannot evaluate. */
  ran(index: number): boolean | undefined;
  /**
   * What the engine reported a disk step ended in (select-disk, apply-image, write-files,
   * restart: no exit code; the disk, the network and the image decide, which the walk cannot).
   */
  outcome(index: number): "success" | "failure" | undefined;
}

/** Steps whose outcome the machine decides, not an exit code (docs/task-sequences.md, "Disk steps"). */
const DISK_STEPS = new Set(["select-disk", "apply-image", "write-files", "restart"]);

/** `%Name%` replaced by the variable's value; unknown names stay as written. */
function expandVariables(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/%([A-Za-z_][A-Za-z0-9_]*)%/g, (all, name: string) => vars.get(name) ?? all);
}

/**
 * Walks `steps` with `variables` (the engine's starting set; secret ones as `undefined`:
 * present, value unknown) and the engine's reported exit codes.
 */
export function walkReference(
  steps: readonly FlatStep[],
  variables: ReadonlyMap<string, string | undefined>,
  report: EngineReport,
): ReferenceWalk {
  const vars = new Map(variables);
  const known = () => new Map([...vars].filter((e): e is [string, string] => e[1] !== undefined));
  const states = new Map<number, StepState>();
  const undecided: number[] = [];
  let failed = 0; // steps of any type in failure, groups too (what the engine counts)
  const mark = (from: number, to: number, state: StepState) => {
    for (let n = from; n <= to; n++) states.set(n, state);
  };
  let next = 1;
  while (next <= steps.length) {
    const s = steps[next - 1]!;
    let run = evaluate(s, vars, known());
    if (run === undefined) {
      undecided.push(s.index);
      run = report.ran(s.index) ?? true;
    }
    if (!run) {
      mark(s.index, s.last, "skipped");
      next = s.last + 1;
      continue;
    }
    vars.set("_SMSTSCurrentActionName", s.name);
    vars.set("_SMSTSNextInstructionPointer", String(s.index));
    if (s.type === "group") {
      states.set(s.index, "success"); // until a failure reaches it
      next = s.index + 1;
      continue;
    }
    if (s.type === "set-variable") {
      vars.set(s.variable!, expandVariables(s.value!, known()));
      states.set(s.index, "success");
      next = s.index + 1;
      continue;
    }
    let succeeded: boolean;
    if (DISK_STEPS.has(s.type)) {
      const outcome = report.outcome(s.index);
      if (outcome === undefined) {
        undecided.push(s.index);
        states.set(s.index, "not-run");
        mark(s.index + 1, steps.length, "not-run");
        return { states, failed, undecided };
      }
      succeeded = outcome === "success";
      // The disk it chose: a value the walk cannot know (conditions on it are undecided).
      if (succeeded && s.type === "select-disk") vars.set("OSDTargetDisk", undefined);
      // The machine restarts into the installed OS: nothing after it runs in the boot environment.
      if (succeeded && s.type === "restart") {
        states.set(s.index, "success");
        mark(s.index + 1, steps.length, "skipped");
        return { states, failed, undecided };
      }
    } else {
      const code = report.exitCode(s.index);
      if (code === undefined) {
        undecided.push(s.index);
        states.set(s.index, "not-run");
        mark(s.index + 1, steps.length, "not-run");
        return { states, failed, undecided };
      }
      vars.set("_SMSTSLastActionRetCode", String(code));
      succeeded = s.successCodes!.includes(code);
    }
    if (succeeded) {
      states.set(s.index, "success");
      next = s.index + 1;
      continue;
    }
    failed++;
    states.set(s.index, "failure");
    if (s.continueOnError) {
      next = s.index + 1;
      continue;
    }
    // The failure goes up through the groups until one continues on error.
    let parent = s.parent;
    let resumeAt: number | undefined;
    while (parent !== 0) {
      const group = steps[parent - 1]!;
      states.set(group.index, "failure");
      failed++;
      if (group.continueOnError) {
        mark(s.index + 1, group.last, "skipped");
        resumeAt = group.last + 1;
        break;
      }
      parent = group.parent;
    }
    if (resumeAt === undefined) {
      mark(s.index + 1, steps.length, "not-run");
      return { states, failed, fatal: s, undecided };
    }
    next = resumeAt;
  }
  return { states, failed, undecided };
}

/** true / false, or undefined when the condition reads a secret variable's value. */
function evaluate(s: FlatStep, vars: ReadonlyMap<string, string | undefined>, known: ReadonlyMap<string, string>) {
  const c = s.condition;
  if (!c) return true;
  if ("exists" in c) return vars.has(c.variable) === c.exists;
  if (!vars.has(c.variable)) return false;
  const value = vars.get(c.variable);
  if (value === undefined) return undefined;
  return value === expandVariables(c.equals, known);
}
