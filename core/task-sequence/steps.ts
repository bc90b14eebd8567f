/**
 * The steps of a task sequence (docs/task-sequences.md): what the engine in the boot
 * environment runs after the policy, in order. Validated one step at a time so an error names
 * the step's path (`steps[2].steps[0]`) and its name, never just "invalid union".
 */
import { z } from "zod";
import { BootmediaError } from "../../base/errors.ts";
import "./codes.ts";

/** Bounds a steps file stays within: the engine runs on a small RAM disk and sh reads every line. */
export const STEP_LIMITS = {
  steps: 1000,
  depth: 16,
  commandBytes: 32 * 1024,
  valueBytes: 32 * 1024,
  fileBytes: 1024 * 1024,
} as const;

/** Task-sequence variable names as the wizard takes them: a letter or _, then letters, digits, _. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const VariableName = z.string().regex(VARIABLE_NAME, "a letter or _, then letters, digits or _ (max 128)");
/** Package ids as the content library writes them. */
const PackageId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "a content-library package id");

const Condition = z.union([
  z.strictObject({ variable: VariableName, equals: z.string().max(STEP_LIMITS.valueBytes) }),
  z.strictObject({ variable: VariableName, exists: z.boolean() }),
]);
export type StepCondition = z.infer<typeof Condition>;

const common = {
  name: z.string().min(1).max(128),
  condition: Condition.optional(),
  continueOnError: z.boolean().default(false),
};
const byteLimit = (max: number) => (s: string) => Buffer.byteLength(s) <= max;

const RunCommand = z.strictObject({
  ...common,
  type: z.literal("run-command"),
  command: z.string().min(1).refine(byteLimit(STEP_LIMITS.commandBytes), `at most ${STEP_LIMITS.commandBytes} bytes`),
  /** Seconds; the command is killed after it (busybox timeout), and that is a failure. */
  timeout: z.int().min(1).max(86_400).default(3600),
  successCodes: z.array(z.int().min(0).max(255)).min(1).max(32).default([0]),
  /** A package whose files the engine downloads from a content location and runs the command in. */
  package: PackageId.optional(),
});
const SetVariable = z.strictObject({
  ...common,
  type: z.literal("set-variable"),
  /** A leading _ marks the engine's own, read-only variables. */
  variable: VariableName.refine((n) => !n.startsWith("_"), "variables starting with _ are read-only"),
  value: z.string().refine(byteLimit(STEP_LIMITS.valueBytes), `at most ${STEP_LIMITS.valueBytes} bytes`),
});
/** A group's own fields; its `steps` are checked one by one (validateSteps). */
const Group = z.strictObject({ ...common, type: z.literal("group"), steps: z.array(z.unknown()) });

/** Binary units a size may be written in ("8GiB"); plain numbers are bytes. */
const SIZE_UNITS = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 } as const;
/** Bytes, as a number or "8GiB" (B, KiB, MiB, GiB, TiB); at most 2^53 - 1. */
const ByteSize = z
  .union([
    z.int().min(1),
    z
      .string()
      .regex(/^\d+(\.\d+)?\s*(B|KiB|MiB|GiB|TiB)$/, 'bytes, or a size like "8GiB" (B, KiB, MiB, GiB, TiB)')
      .transform((s) => {
        const unit = /(B|KiB|MiB|GiB|TiB)$/.exec(s)![1] as keyof typeof SIZE_UNITS;
        return Math.floor(Number.parseFloat(s) * SIZE_UNITS[unit]);
      }),
  ])
  .refine((n) => Number.isSafeInteger(n) && n >= 1, "a size of at least 1 byte");

/** A disk as the boot environment's kernel names it: /dev/sda, /dev/nvme0n1, /dev/disk/by-id/… */
const DevicePath = z.string().regex(/^\/dev\/[A-Za-z0-9][A-Za-z0-9/_.:+-]{0,254}$/, "a device path like /dev/sda");
/** Printable text without tabs or line breaks (it travels in one field of the wire text). */
const lineText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\t\n\r]*$/, "one line of text");

const SelectDisk = z.strictObject({
  ...common,
  type: z.literal("select-disk"),
  /** This disk and no other. */
  path: DevicePath.optional(),
  /** The disk whose serial (or WWID) is this. */
  serial: lineText(128).optional(),
  /** Bytes or "8GiB"; default: the size of the next apply-image step's image. */
  minSize: ByteSize.optional(),
});
const ApplyImage = z.strictObject({
  ...common,
  type: z.literal("apply-image"),
  /** An os-image package: streamed to the disk select-disk chose. */
  package: PackageId,
});
/** An absolute path inside the installed root, never leaving it. */
const RootPath = z
  .string()
  .max(1024)
  .refine(
    (p) => /^\/[^\0\t\n\r]+$/.test(p) && !p.split("/").some((s, i) => i > 0 && (s === "" || s === "." || s === "..")),
    "an absolute path inside the installed system, like /etc/motd (no . or .. parts, no // or trailing /)",
  );
const WriteFiles = z.strictObject({
  ...common,
  type: z.literal("write-files"),
  files: z
    .array(
      z.strictObject({
        path: RootPath,
        content: z.string().refine(byteLimit(STEP_LIMITS.valueBytes), `at most ${STEP_LIMITS.valueBytes} bytes`),
        /** Octal permissions, "0644" by default. */
        mode: z
          .string()
          .regex(/^0?[0-7]{3}$/, 'octal permissions like "0644"')
          .default("0644"),
      }),
    )
    .max(256)
    .default([]),
  /** A package whose files are copied into the installed root, each at /<its path>. */
  package: PackageId.optional(),
});
const Restart = z.strictObject({ ...common, type: z.literal("restart") });

const STEP_TYPES = {
  "run-command": RunCommand,
  "set-variable": SetVariable,
  group: Group,
  "select-disk": SelectDisk,
  "apply-image": ApplyImage,
  "write-files": WriteFiles,
  restart: Restart,
} as const;
export type StepType = keyof typeof STEP_TYPES;

export type RunCommandStep = z.output<typeof RunCommand>;
export type SetVariableStep = z.output<typeof SetVariable>;
export type GroupStep = Omit<z.output<typeof Group>, "steps"> & { steps: Step[] };
export type SelectDiskStep = z.output<typeof SelectDisk>;
export type ApplyImageStep = z.output<typeof ApplyImage>;
export type WriteFilesStep = z.output<typeof WriteFiles>;
export type RestartStep = z.output<typeof Restart>;
export type Step =
  | RunCommandStep
  | SetVariableStep
  | GroupStep
  | SelectDiskStep
  | ApplyImageStep
  | WriteFilesStep
  | RestartStep;
export interface TaskSequenceSteps {
  steps: Step[];
}

const invalid = (message: string, where?: string) => new BootmediaError("BM2401", message, { where });

/** A steps document (already parsed from YAML/JSON) as typed steps; BM2401/BM2403 name the step. */
export function validateSteps(doc: unknown, where?: string): TaskSequenceSteps {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw invalid("steps file: the top level must be a mapping with `steps:`", where);
  const keys = Object.keys(doc);
  const extra = keys.filter((k) => k !== "steps");
  if (extra.length > 0) throw invalid(`steps file: unknown top-level key ${extra[0]} (only \`steps\`)`, where);
  const top = (doc as { steps?: unknown }).steps;
  if (!Array.isArray(top) || top.length === 0) throw invalid("steps file: `steps` must be a non-empty list", where);
  let count = 0;
  const walk = (list: unknown[], path: string, depth: number, open: Set<unknown>): Step[] => {
    if (depth > STEP_LIMITS.depth)
      throw new BootmediaError("BM2403", `${path}: groups nested more than ${STEP_LIMITS.depth} deep`, { where });
    return list.map((raw, i) => {
      const at = `${path}[${i}]`;
      if (++count > STEP_LIMITS.steps)
        throw new BootmediaError("BM2403", `${at}: more than ${STEP_LIMITS.steps} steps`, { where });
      if (open.has(raw)) throw invalid(`${at}: a group contains itself (a cycle of YAML aliases)`, where);
      if (typeof raw !== "object" || raw === null || Array.isArray(raw))
        throw invalid(`${at}: a step is a mapping with name and type`, where);
      const type = (raw as { type?: unknown }).type;
      const label = describe(at, raw);
      const schema = typeof type === "string" ? STEP_TYPES[type as StepType] : undefined;
      if (!schema)
        throw invalid(
          `${label}: type: ${type === undefined ? "missing" : `unknown step type ${JSON.stringify(type)}`} (one of ${Object.keys(STEP_TYPES).join(", ")})`,
          where,
        );
      const r = schema.safeParse(raw);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        throw invalid(`${label}: ${issue.path.join(".") || "(step)"}: ${issue.message}`, where);
      }
      if (r.data.type !== "group") return r.data;
      if (r.data.steps.length === 0) throw invalid(`${label}: steps: a group holds at least one step`, where);
      open.add(raw);
      const steps = walk(r.data.steps, `${at}.steps`, depth + 1, open);
      open.delete(raw);
      return { ...r.data, steps };
    });
  };
  return { steps: walk(top, "steps", 1, new Set()) };
}

/** `steps[2] ("Format disk")`: the path, and the name when the step has a usable one. */
function describe(path: string, raw: object): string {
  const name = (raw as { name?: unknown }).name;
  return typeof name === "string" && name.length > 0 && name.length <= 128 ? `${path} (${JSON.stringify(name)})` : path;
}

/** Every package id the steps reference (run-command, write-files and apply-image `package`), in first-use order. */
export function referencedPackages(steps: readonly Step[]): string[] {
  return [...packageUsers(steps).keys()];
}

/** Each package the steps reference, with the name of the first step using it (document order). */
export function packageUsers(steps: readonly Step[]): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (list: readonly Step[]) => {
    for (const s of list) {
      if (s.type === "group") visit(s.steps);
      else if ("package" in s && s.package && !out.has(s.package)) out.set(s.package, s.name);
    }
  };
  visit(steps);
  return out;
}

/** The package ids apply-image steps name: these must be os-image packages. */
export function imagePackages(steps: readonly Step[]): string[] {
  const out: string[] = [];
  const visit = (list: readonly Step[]) => {
    for (const s of list) {
      if (s.type === "group") visit(s.steps);
      else if (s.type === "apply-image" && !out.includes(s.package)) out.push(s.package);
    }
  };
  visit(steps);
  return out;
}
