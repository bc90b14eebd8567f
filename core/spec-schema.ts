/**
 * The media spec: core's own options plus the sections and target types of the plugins in
 * use, composed into ONE zod schema at load time. That schema is the single source for
 * validation, the CLI flags that mirror it (meta `flag`) and docs/spec.md. Meta keys:
 * `description` (one line), `flag` (CLI flag that sets it), `codes` (error codes this option
 * can raise), `example`.
 */
import { z } from "zod";
import { ARCHES, FIRMWARES } from "./compat.ts";

/** What the media do: ask a management point (bootable) or carry the deployment (standalone). */
const MEDIA_TYPES = ["bootable", "standalone"] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/** A portable environment variable name (POSIX: letters, digits, underscore). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `{ env: NAME }` or `{ file: path }`; an inline string is BM1006, never accepted. */
export const secretRef = (description: string, flag: string, codes: string[] = []) =>
  z
    .unknown()
    .superRefine((value, ctx) => {
      if (typeof value === "string" || typeof value === "number") {
        ctx.addIssue({
          code: "custom",
          message: "secrets are accepted only by reference; an inline value would sit in clear in the spec file",
          params: { bm: "BM1006" },
        });
        return;
      }
      const ok =
        typeof value === "object" &&
        value !== null &&
        Object.keys(value).length === 1 &&
        (typeof (value as { env?: unknown }).env === "string" ||
          typeof (value as { file?: unknown }).file === "string");
      if (!ok)
        ctx.addIssue({ code: "custom", message: "expected { env: NAME } or { file: path }", params: { bm: "BM1003" } });
      // Not echoed: what stands where a name belongs is most likely the secret itself.
      else if ("env" in (value as object) && !ENV_NAME.test((value as { env: string }).env)) {
        ctx.addIssue({
          code: "custom",
          message:
            "env must name an environment variable (letters, digits, _; not starting with a digit); the value given is not shown, as it may be the secret itself",
          params: { bm: "BM1006" },
        });
      }
    })
    .transform((v) => v as SecretRef)
    .meta({ description, flag, type: "secret", codes: ["BM1006", "BM1007", ...codes] });

export type SecretRef = { env: string } | { file: string };

const packageId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "a package id: letters, digits, . _ -");

/** Sections of the spec that hold plugins' options, in the order they appear in docs. */
export const SPEC_CONTAINERS = {
  security: "Security settings",
  customization: "Customization",
} as const;

/** A third-party plugin entry: a path or package name, or `{ use, options }`. */
export const pluginEntry = z.union([
  z.string().min(1),
  z
    .object({
      use: z.string().min(1).meta({ description: "Path (relative to the spec) or package name" }),
      options: z
        .record(z.string(), z.unknown())
        .optional()
        .meta({ description: "The plugin's own options (checked by its schema)" }),
    })
    .strict(),
]);
export type PluginEntry = z.output<typeof pluginEntry>;

const machine = z
  .object({
    arch: z.enum(ARCHES).meta({ description: "Machine CPU: x86 (32-bit only) or x64" }),
    firmware: z.enum(FIRMWARES).meta({ description: "Machine firmware" }),
    nic: z.string().optional().meta({ description: "Kernel driver the machine's NIC needs (e.g. e1000, virtio_net)" }),
    secureBoot: z.boolean().optional().meta({
      description:
        "The machine boots with UEFI Secure Boot on: the validator refuses media it would reject (core/secure-boot.ts)",
    }),
    trust: z.string().min(1).optional().meta({
      description:
        "With secureBoot: the keys the machine trusts, `microsoft` (Microsoft's UEFI CA, the default) or a PEM/DER certificate file enrolled in its db (relative to the spec)",
    }),
  })
  .strict();

/** What core itself reads from every spec. */
export const CORE_FIELDS = {
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "letters, digits, . _ - (max 64)")
    .meta({ description: "Media name: its id on the media and in logs", flag: "name", example: "contoso-x64" }),
  bootImage: z.union([packageId, z.array(packageId).min(1)]).meta({
    description:
      "Boot-image package id(s) in the content library; several put images of both architectures on one media",
    flag: "boot-image",
    codes: ["BM2002", "BM3002", "BM3003"],
  }),
  taskSequence: packageId.meta({
    description:
      "Task sequence the booted machine asks the management point for; on stand-alone media, the one the media carry with its steps",
    flag: "task-sequence",
  }),
  mediaType: z
    .enum(MEDIA_TYPES)
    .default("bootable")
    .meta({
      description:
        "bootable: the booted machine asks a management point what to deploy; standalone: the media carry the task sequence, every package its steps use and the variables, and deploy with no network (docs/standalone-media.md)",
      flag: "media-type",
      codes: ["BM6101", "BM6102", "BM6104", "BM6105", "BM6106", "BM6107", "BM6108", "BM6110"],
    }),
  contentLibrary: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .default("embedded")
    .meta({
      description:
        "Content library: a folder laid out as docs/content-library.md describes (relative to the spec file), `embedded` for the sample library shipped with bootmedia, a distribution point URL, a list of them (tried in order), or the object form with auth and TLS settings",
      flag: "content-library",
      codes: ["BM2001", "BM2101", "BM2102", "BM2105"],
    }),
  machines: z
    .array(machine)
    .default([])
    .meta({
      description:
        "Machines the media must boot on; the validator checks the boot images against the compatibility rules",
      flag: "machine",
      codes: ["BM3003", "BM3004", "BM3007", "BM3701", "BM3702", "BM3703", "BM3704", "BM3705"],
    }),
  plugins: z
    .array(pluginEntry)
    .default([])
    .meta({
      description: "Third-party plugins: paths relative to the spec or package names, or { use, options }",
      flag: "plugin",
      codes: ["BM1008"],
    }),
} as const;

/** The output path every target has. */
export const targetOutput = z
  .string()
  .min(1)
  .meta({
    description:
      "Output path: folder (directory), .iso file (iso), image file or /dev/sdX (usb); relative to the spec file",
    flag: "out",
    codes: ["BM1010", "BM3301", "BM3302", "BM3303", "BM3304", "BM3305", "BM3307", "BM4301"],
  });

/** Every target: a type, an output, and the options of its type. */
export interface Target {
  type: string;
  /** Absolute output path (after resolve; relative to the spec file as written). */
  output: string;
  [option: string]: unknown;
}

/** The spec after validation: core's fields typed; plugin sections are read through their `SpecSection`. */
export interface MediaSpec {
  name: string;
  bootImage: string | string[];
  taskSequence: string;
  mediaType: MediaType;
  contentLibrary: unknown;
  target: Target;
  machines: Array<z.output<typeof machine>>;
  plugins: PluginEntry[];
  [section: string]: unknown;
}

/** A plugin's section of the spec at a dotted path, with a typed reader. */
export interface SpecSection<S extends z.ZodType = z.ZodType> {
  readonly path: string;
  readonly schema: S;
  /** The section's validated value in a spec (its defaults applied). */
  of(spec: MediaSpec): z.output<S>;
}

export function defineSection<S extends z.ZodType>(path: string, schema: S): SpecSection<S> {
  const keys = path.split(".");
  return {
    path,
    schema,
    // The composed schema validated this path with `schema`, so its output type holds.
    of: (spec) =>
      keys.reduce<unknown>(
        (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
        spec,
      ) as z.output<S>,
  };
}

/** What a target type writes at its output path: one file (an .iso, a disk image, an archive) or a folder. */
export const TARGET_WRITES = ["file", "folder"] as const;
export type TargetWrites = (typeof TARGET_WRITES)[number];

/** How a target type says what it writes, beside its one-line description. */
export interface TargetDeclaration {
  readonly description: string;
  /** What the output path holds once written; core refuses an existing output of the other kind (BM1012). */
  readonly writes: TargetWrites;
  /** It also writes whole drives: an existing block device at the output path is then its output (the plugin checks and confirms it). */
  readonly drives?: boolean;
}

/** A target type a plugin writes, with the options of that type (fields beside type and output). */
export interface TargetType<S extends z.ZodRawShape = z.ZodRawShape> extends TargetDeclaration {
  readonly type: string;
  readonly options: S;
  /** The target as this type's options, or undefined when the target is of another type. */
  narrow(target: Target): (Target & z.output<z.ZodObject<S>>) | undefined;
}

export function defineTargetType<S extends z.ZodRawShape>(
  type: string,
  declaration: TargetDeclaration,
  options: S,
): TargetType<S> {
  // The one-string form of earlier versions said nothing of what the target writes.
  if (typeof declaration !== "object" || declaration === null) {
    throw new Error(
      `target type "${type}": the second argument is { description, writes: "file" | "folder" }, what its output path holds`,
    );
  }
  return {
    type,
    description: declaration.description,
    writes: declaration.writes,
    ...(declaration.drives ? { drives: true } : {}),
    options,
    // Targets are validated by the composed schema, whose member for `type` is built from `options`.
    narrow: (target) => (target.type === type ? (target as Target & z.output<z.ZodObject<S>>) : undefined),
  };
}

/** What composition needs from each plugin in use. */
export interface SpecContribution {
  plugin: string;
  sections: SpecSection[];
  targets: TargetType[];
}

/** The whole spec schema for these contributions (built-ins and the spec's plugins). */
export function composeSpecSchema(contributions: SpecContribution[]): z.ZodType<MediaSpec> {
  const root: Record<string, z.ZodType> = { ...CORE_FIELDS };
  const containers: Record<string, Record<string, z.ZodType>> = Object.fromEntries(
    Object.keys(SPEC_CONTAINERS).map((k) => [k, {}]),
  );
  const targets: TargetType[] = [];
  for (const c of contributions) {
    for (const s of c.sections) {
      const [head, ...rest] = s.path.split(".");
      if (rest.length === 0) root[head!] = s.schema;
      else if (rest.length === 1 && containers[head!]) containers[head!]![rest[0]!] = s.schema;
      else if (rest.length === 1 && root[head!] === undefined)
        throw new Error(`plugin ${c.plugin}: section ${s.path} is not under a known part of the spec`);
      else root[head!] = s.schema; // an override of a core field (e.g. contentLibrary's object form)
    }
    targets.push(...c.targets);
  }
  for (const [name, fields] of Object.entries(containers)) {
    root[name] = z
      .object(fields)
      .strict()
      .prefault({})
      .meta({ description: SPEC_CONTAINERS[name as keyof typeof SPEC_CONTAINERS] });
  }
  root.target = targetSchema(targets);
  // Docs and help list the options in this order: what the media is, then settings, then machines and plugins.
  const { name, bootImage, taskSequence, mediaType, contentLibrary, target, machines, plugins, ...settings } = root;
  return z
    .object({ name, bootImage, taskSequence, mediaType, contentLibrary, target, ...settings, machines, plugins })
    .strict() as unknown as z.ZodType<MediaSpec>;
}

function targetSchema(types: TargetType[]): z.ZodType {
  const names = types.map((t) => t.type);
  const typeMeta = {
    description: `Media type: ${types.map((t) => `${t.type} (${t.description})`).join(", ")}`,
    flag: "target",
    codes: ["BM3005"],
  };
  if (types.length === 0)
    return z
      .object({ type: z.string().meta(typeMeta), output: targetOutput })
      .strict()
      .meta({ description: "What to write" });
  const members = types.map((t) =>
    z.object({ type: z.literal(t.type).meta(typeMeta), output: targetOutput, ...t.options }).strict(),
  );
  // A type nobody writes gets one clear message (BM3005) instead of one per union member.
  return z
    .object({ type: z.string().meta(typeMeta) })
    .passthrough()
    .superRefine((v, ctx) => {
      if (!names.includes(v.type))
        ctx.addIssue({
          code: "custom",
          path: ["type"],
          message: `no plugin in use writes targets of type "${v.type}" (known: ${names.join(", ")})`,
          params: { bm: "BM3005" },
        });
    })
    .pipe(
      z.discriminatedUnion("type", members as unknown as [z.ZodObject, ...z.ZodObject[]]) as unknown as z.ZodType<
        Target,
        { type: string; [k: string]: unknown }
      >,
    )
    .meta({ description: "What to write", targetTypes: names });
}
