/**
 * The one plugin door. Built-in features and third-party plugins alike are declared with
 * `definePlugin`: a name, how to apply it to a build, and optionally its own options, the
 * spec sections and target types it adds, its error codes, a reader for what it writes
 * (`bootmedia inspect`) and image formats (`bootmedia image <format>`).
 */
import type { z } from "zod";
import { defineCodes, type CodeTable } from "../base/errors.ts";
import type { BuildHooks } from "./hooks.ts";
import type { BuildContext } from "./context.ts";
import type { MediaSpec, SpecSection, TargetType } from "./spec-schema.ts";

type TapMethods = "tap" | "tapPromise" | "tapAsync";
/** A hook as plugins see it: they may tap it, only core calls it. */
export type TapOnly<H> = Pick<H, Extract<keyof H, TapMethods>>;

export interface PluginBuild {
  readonly hooks: { readonly [K in keyof BuildHooks]: TapOnly<BuildHooks[K]> };
  readonly context: BuildContext;
}

/** What taps a build's hooks. */
export interface Plugin {
  /** Unique name; the plugin taps every hook with it. */
  readonly name: string;
  apply(build: PluginBuild): void;
}

/** What `bootmedia inspect` prints of one medium. */
export interface InspectReport {
  kind: string;
  path: string;
  [key: string]: unknown;
}

/** Reads media back: `detect` says whether this reader knows the path. */
export interface Inspector {
  detect(path: string): Promise<boolean>;
  inspect(path: string): Promise<InspectReport>;
  format(report: InspectReport): string;
}

/**
 * Media opened for reading file contents (plugins/media-manifest/open-media.ts opens them
 * through the inspectors): what `inspect --check`, `diff` and the EFI report read.
 */
export interface OpenedMedia {
  kind: string;
  path: string;
  files: Array<{ path: string; size: number }>;
  /** bootmedia/media.json, when the media has one. */
  config: Record<string, unknown> | undefined;
  /** A file's bytes; undefined when the media has no such file. */
  read(mediaPath: string): Promise<Buffer | undefined>;
  /** A file of any size, streamed to `onChunk` in order; its size, or undefined when the media have no such file. */
  stream(mediaPath: string, onChunk: (chunk: Buffer) => void): Promise<number | undefined>;
}

/** One `bootmedia image <format>` flag. */
export interface ImageFlag {
  /** cac syntax, e.g. "--volume-id <id>". */
  syntax: string;
  description: string;
}

export interface ImageResult {
  path: string;
  bytes: number;
  [key: string]: unknown;
}

/** `bootmedia image <name> <dir> -o FILE`: one writer on a folder. */
export interface ImageFormat {
  describe: string;
  flags: ImageFlag[];
  write(dir: string, flags: Record<string, unknown> & { output: string; force?: boolean }): Promise<ImageResult>;
}

/** A value given as is, or loaded when first needed (keeps the CLI's start-up small). */
export type Lazy<T> = T | (() => Promise<T>);

export async function resolveLazy<T>(value: Lazy<T>): Promise<T> {
  return typeof value === "function" ? (value as () => Promise<T>)() : value;
}

export interface PluginDefinition<O = unknown> {
  /** Unique name, also the tap name. */
  readonly name: string;
  /** One line for `--help` and docs. */
  readonly describe?: string;
  /** Its own options: `plugins: [{ use, options }]` in the spec, checked with this schema. */
  readonly options?: z.ZodType<O>;
  /** The parts of the spec it owns (built-ins: e.g. `security.certificate`). */
  readonly sections?: SpecSection[];
  /** Target types it writes (`target.type`), each with its options. */
  readonly targets?: TargetType[];
  /** Its error codes: title and hint each. Third-party codes use their own prefix, never BM. */
  readonly codes?: CodeTable;
  /** Reads back media it wrote. */
  readonly inspector?: Lazy<Inspector>;
  /** `bootmedia image` formats it offers, by name. */
  readonly imageFormats?: Readonly<Record<string, Lazy<ImageFormat>>>;
  /** Whether a spec needs it (default: yes; a plugin with targets also when the target is one of them). */
  readonly enabled?: (spec: MediaSpec) => boolean;
  /** The plugin that taps the build, given its validated options (may load its implementation lazily). */
  readonly create: (options: O, spec: MediaSpec) => Plugin | Promise<Plugin>;
}

/** Declares a plugin; returns it as given, typed (options inferred from their schema). */
export function definePlugin<O = undefined>(definition: PluginDefinition<O>): PluginDefinition<O> {
  return definition;
}

/**
 * The simple form for plugins that only tap hooks: `apply` gets the build and the options.
 * Everything else of `PluginDefinition` may be given beside it.
 */
export function simplePlugin<O = undefined>(
  definition: Omit<PluginDefinition<O>, "create"> & { apply(build: PluginBuild, options: O): void },
): PluginDefinition<O> {
  const { apply, ...rest } = definition;
  return { ...rest, create: (options) => ({ name: definition.name, apply: (build) => apply(build, options) }) };
}

/** Registers a definition's codes, checking a third party keeps out of bootmedia's namespace. */
export function registerPluginCodes(def: PluginDefinition<unknown>, builtin: boolean): void {
  if (!def.codes) return;
  if (!builtin) {
    const bm = Object.keys(def.codes).filter((c) => c.startsWith("BM"));
    if (bm.length > 0)
      throw new Error(
        `plugin ${def.name} declares ${bm.join(", ")}: BM codes are bootmedia's; use a prefix of your own (e.g. ACME001)`,
      );
  }
  defineCodes(def.name, def.codes);
}

/** Whether the definition is used for this spec. */
export function isEnabled(def: PluginDefinition<unknown>, spec: MediaSpec): boolean {
  if (def.enabled) return def.enabled(spec);
  if (def.targets && def.targets.length > 0) return def.targets.some((t) => t.type === spec.target.type);
  return true;
}

export function isPlugin(value: unknown): value is Plugin {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Plugin).name === "string" &&
    typeof (value as Plugin).apply === "function"
  );
}

export function isPluginDefinition(value: unknown): value is PluginDefinition<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as PluginDefinition).name === "string" &&
    typeof (value as PluginDefinition).create === "function"
  );
}
