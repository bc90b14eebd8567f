/**
 * The task sequence as the boot environment's engine reads it (docs/mp-protocol.md,
 * "Task sequence"): steps flattened in document order (groups included, each knowing its
 * parent and its last descendant), one tab-separated line each, every free-text field in
 * base64 so no byte of a command can break a line or a field. `-` is an empty field: sh's
 * `read` folds consecutive tabs, and `-` is not in the base64 alphabet.
 *
 * The disk steps (select-disk, apply-image, write-files, restart) came later under the same
 * version 1: a program without them is byte for byte what it was, and an engine that predates
 * them refuses a program holding them as unreadable (it checks every step type) rather than
 * skipping a step it cannot run.
 */
import type { Step, StepCondition, StepType, WriteFilesStep } from "./steps.ts";

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
  /** select-disk */
  path?: string;
  serial?: string;
  minSize?: number;
  /** write-files */
  files?: WriteFilesStep["files"];
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
      else if (s.type === "select-disk") Object.assign(flat, { path: s.path, serial: s.serial, minSize: s.minSize });
      else if (s.type === "apply-image") flat.package = s.package;
      else if (s.type === "write-files") Object.assign(flat, { files: s.files, package: s.package });
      else if (s.type === "group") visit(s.steps, flat.index);
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

/** What the engine needs of an os-image package (the manifest's `osImage`, docs/task-sequences.md). */
export interface OsImageWire {
  id: string;
  /** The stored image's path among the package's files (its size and sha256 are in `files`). */
  image: string;
  compression: "none" | "zstd" | "xz" | "gzip";
  /** Uncompressed bytes: what the disk must hold. */
  size: number;
  /** sha256 of the uncompressed bytes. */
  sha256: string;
  partitionTable: "gpt" | "mbr";
  /** The partition write-files mounts (1-based). */
  rootPartition: number;
  firmware: readonly ("bios" | "uefi")[];
}

interface WireInput {
  steps: readonly Step[];
  /** The deployment's variables (never a secret one: the MP holds none). */
  variables: Readonly<Record<string, string>>;
  packages: readonly ContentPackage[];
  /** The os-image packages apply-image steps name. */
  images?: readonly OsImageWire[];
}

const b64 = (s: string | undefined) => (s === undefined || s === "" ? "-" : Buffer.from(s, "utf8").toString("base64"));
const field = (s: string | number | undefined) => (s === undefined || s === "" ? "-" : String(s));

/** `exists NAME`, `missing NAME` or `equals NAME VALUE`: the engine splits at the first two spaces. */
function encodeCondition(c: StepCondition | undefined): string | undefined {
  if (!c) return undefined;
  if ("equals" in c) return `equals ${c.variable} ${c.equals}`;
  return `${c.exists ? "exists" : "missing"} ${c.variable}`;
}

/** A step's two argument fields: base64 text, except a package id, which goes as it is. */
function stepArgs(s: FlatStep): [string, string] {
  switch (s.type) {
    case "run-command":
      return [b64(s.command), field(s.package)];
    case "set-variable":
      return [b64(s.variable), b64(s.value)];
    case "select-disk":
      return [b64(s.path), b64(s.serial)];
    case "apply-image":
    case "write-files":
      return ["-", field(s.package)];
    default:
      return ["-", "-"];
  }
}

/**
 * The engine's program: a header `bootmedia-steps 1 M`, then S (step), F (a write-files
 * step's file), V (variable), L (content location), P (package file) and I (os image)
 * lines. Tab-separated, newline-terminated.
 */
export function encodeTaskSequence(input: WireInput): string {
  const flat = flattenSteps(input.steps);
  const lines = [`bootmedia-steps\t${WIRE_VERSION}\t${flat.length}`];
  for (const s of flat) {
    lines.push(
      [
        "S",
        s.index,
        s.parent,
        s.last,
        s.type,
        s.continueOnError ? 1 : 0,
        // A number of the step: run-command's timeout, select-disk's minSize (bytes).
        field(s.type === "select-disk" ? s.minSize : s.timeout),
        field(s.successCodes?.join(",")),
        b64(s.name),
        b64(encodeCondition(s.condition)),
        ...stepArgs(s),
      ].join("\t"),
    );
  }
  for (const s of flat) {
    for (const f of s.files ?? [])
      lines.push(`F\t${s.index}\t${f.mode.padStart(4, "0")}\t${b64(f.path)}\t${b64(f.content)}`);
  }
  for (const [name, value] of Object.entries(input.variables)) lines.push(`V\t${name}\t${b64(value)}`);
  for (const p of input.packages) {
    for (const url of p.locations) lines.push(`L\t${p.id}\t${url}`);
    for (const f of p.files) lines.push(`P\t${p.id}\t${f.sha256}\t${f.size}\t${b64(f.path)}`);
  }
  for (const i of input.images ?? []) {
    lines.push(
      [
        "I",
        i.id,
        i.compression,
        i.size,
        i.sha256,
        i.partitionTable,
        i.rootPartition,
        i.firmware.join(",") || "-",
        b64(i.image),
      ].join("\t"),
    );
  }
  return `${lines.join("\n")}\n`;
}
