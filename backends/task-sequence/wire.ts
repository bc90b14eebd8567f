/**
 * The task sequence as the boot environment's engine reads it (docs/mp-protocol.md,
 * "Task sequence"): steps flattened in document order (groups included, each knowing its
 * parent and its last descendant), one tab-separated line each, every free-text field in
 * base64 so no byte of a command can break a line or a field. `-` is an empty field: sh's
 * `read` folds consecutive tabs, and `-` is not in the base64 alphabet.
 */
import type { Step, StepCondition, StepType } from "./steps.ts";

const WIRE_VERSION = 1;

export interface FlatStep {
  /** 1-based position in document order: the engine's "step N of M". */
  index: number;
  /** Index of the enclosing group, 0 at the top level. */
  parent: number;
  /** Index of the last step inside this one (a group's last descendant; a leaf's own index). */
  last: number;
  type: StepType;
  name: string;
  continueOnError: boolean;
  condition?: StepCondition;
  /** run-command */
  command?: string;
  timeout?: number;
  successCodes?: number[];
  package?: string;
  /** set-variable */
  variable?: string;
  value?: string;
}

/** Pre-order, groups first, then their steps. */
export function flattenSteps(steps: readonly Step[]): FlatStep[] {
  const out: FlatStep[] = [];
  const visit = (list: readonly Step[], parent: number) => {
    for (const s of list) {
      const flat: FlatStep = {
        index: out.length + 1,
        parent,
        last: 0,
        type: s.type,
        name: s.name,
        continueOnError: s.continueOnError,
        ...(s.condition ? { condition: s.condition } : {}),
      };
      out.push(flat);
      if (s.type === "run-command") {
        Object.assign(flat, { command: s.command, timeout: s.timeout, successCodes: s.successCodes });
        if (s.package) flat.package = s.package;
      } else if (s.type === "set-variable") Object.assign(flat, { variable: s.variable, value: s.value });
      else visit(s.steps, flat.index);
      flat.last = out.length;
    }
  };
  visit(steps, 0);
  return out;
}

/** A package the steps use: where the engine may fetch it and what it must find there. */
export interface ContentPackage {
  id: string;
  /** Base URLs of the package's folder on distribution points, in the order to try them. */
  locations: string[];
  files: Array<{ path: string; sha256: string; size: number }>;
}

interface WireInput {
  steps: readonly Step[];
  /** The deployment's variables (never a secret one: the MP holds none). */
  variables: Readonly<Record<string, string>>;
  packages: readonly ContentPackage[];
}

const b64 = (s: string | undefined) => (s === undefined || s === "" ? "-" : Buffer.from(s, "utf8").toString("base64"));
const field = (s: string | number | undefined) => (s === undefined || s === "" ? "-" : String(s));

/** `exists NAME`, `missing NAME` or `equals NAME VALUE`: the engine splits at the first two spaces. */
function encodeCondition(c: StepCondition | undefined): string | undefined {
  if (!c) return undefined;
  if ("equals" in c) return `equals ${c.variable} ${c.equals}`;
  return `${c.exists ? "exists" : "missing"} ${c.variable}`;
}

/**
 * The engine's program: a header `bootmedia-steps 1 M`, then S (step), V (variable),
 * L (content location) and P (package file) lines. Tab-separated, newline-terminated.
 */
export function encodeTaskSequence(input: WireInput): string {
  const flat = flattenSteps(input.steps);
  const lines = [`bootmedia-steps\t${WIRE_VERSION}\t${flat.length}`];
  for (const s of flat) {
    const [arg1, arg2] =
      s.type === "run-command" ? [s.command, s.package] : s.type === "set-variable" ? [s.variable, s.value] : [];
    lines.push(
      [
        "S",
        s.index,
        s.parent,
        s.last,
        s.type,
        s.continueOnError ? 1 : 0,
        field(s.timeout),
        field(s.successCodes?.join(",")),
        b64(s.name),
        b64(encodeCondition(s.condition)),
        b64(arg1),
        s.type === "run-command" ? field(arg2) : b64(arg2),
      ].join("\t"),
    );
  }
  for (const [name, value] of Object.entries(input.variables)) lines.push(`V\t${name}\t${b64(value)}`);
  for (const p of input.packages) {
    for (const url of p.locations) lines.push(`L\t${p.id}\t${url}`);
    for (const f of p.files) lines.push(`P\t${p.id}\t${f.sha256}\t${f.size}\t${b64(f.path)}`);
  }
  return `${lines.join("\n")}\n`;
}
