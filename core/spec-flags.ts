/**
 * CLI flags that mirror spec options, derived from the schema's meta (`flag`): the
 * schema is the single source, so a new option gets its flag, help and docs at once.
 */
import { z } from "zod";
import { BootmediaError } from "../base/errors.ts";
import type { SpecModel } from "./spec-model.ts";
import { ENV_NAME } from "./spec-schema.ts";
import "./codes.ts";

interface SpecFlag {
  /** Flag name without dashes, e.g. "task-sequence". */
  flag: string;
  /** Dotted spec path, e.g. "target.output". */
  path: string[];
  description: string;
  kind: "string" | "boolean" | "number" | "enum" | "list" | "secret" | "mp" | "var" | "machine" | "capacity";
  values?: string[];
  default?: unknown;
  codes?: string[];
  /** Set when the option lives in the object form of a union whose shorthand (a string or list) moves to `key`. */
  shorthand?: { depth: number; key: string };
}

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema> };

const toJson = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;

/**
 * The JSON Schema of the spec (input view), with every meta key kept. The target is shown as
 * one object holding the options of every target type in use (each says which type it is for).
 */
function specJsonSchema(model: SpecModel): JsonSchema {
  const json = toJson(model.schema);
  const target = json.properties?.target;
  if (target && model.targets.length > 0) {
    const properties: Record<string, JsonSchema> = {};
    for (const t of model.targets) {
      const member = toJson(z.object({ output: model.outputSchema, ...t.options }));
      for (const [k, v] of Object.entries(member.properties ?? {})) properties[k] ??= v;
    }
    const type = { ...(toJson(model.typeSchema) as JsonSchema), enum: model.targets.map((t) => t.type) };
    json.properties!.target = {
      type: "object",
      description: String(target.description ?? "What to write"),
      properties: { type, ...properties },
    };
  }
  // A third-party plugin's own options sit in its `plugins:` entry.
  for (const p of model.pluginOptions) {
    json.properties![`plugins.${p.index}.options`] = {
      ...toJson(p.schema),
      type: "object",
      description: `Options of plugin ${p.plugin}`,
      pluginPath: ["plugins", String(p.index), "options"],
    };
  }
  return json;
}

/** Every documented option (with or without a flag), depth first, in declaration order. */
export function specOptions(model: SpecModel): Array<SpecFlag & { hasFlag: boolean }> {
  const out: Array<SpecFlag & { hasFlag: boolean }> = [];
  const walk = (node: JsonSchema, path: string[], shorthand?: SpecFlag["shorthand"]) => {
    const form = node.properties ? node : objectForm(node);
    const inner = typeof form?.shorthand === "string" ? { depth: path.length - 1, key: form.shorthand } : shorthand;
    for (const [key, child] of Object.entries(form?.properties ?? {})) {
      const p = Array.isArray(child.pluginPath) ? (child.pluginPath as string[]) : [...path, key];
      out.push({
        ...describe(child, p),
        hasFlag: typeof child.flag === "string" && child.flag !== "",
        ...(inner ? { shorthand: inner } : {}),
      });
      // A union is walked when its object form declares flags (e.g. contentLibrary.caFile → --ca-file).
      if (child.type === "object" || child.properties || declaresFlags(objectForm(child))) walk(child, p, inner);
    }
  };
  walk(specJsonSchema(model), []);
  return out;
}

const objectForm = (node: JsonSchema): JsonSchema | undefined =>
  (node.anyOf as JsonSchema[] | undefined)?.find((n) => n.properties);
const declaresFlags = (node: JsonSchema | undefined) =>
  Object.values(node?.properties ?? {}).some((c) => typeof c.flag === "string" && c.flag !== "");

export function specFlags(model: SpecModel): SpecFlag[] {
  return specOptions(model).filter((o) => o.hasFlag);
}

const SPECIAL_KIND: Record<string, SpecFlag["kind"]> = {
  mp: "mp",
  var: "var",
  machine: "machine",
  capacity: "capacity",
  "boot-image": "list",
  plugin: "list",
};

function describe(node: JsonSchema, path: string[]): SpecFlag {
  const flag = String(node.flag ?? "");
  const values = (node.enum as string[] | undefined) ?? undefined;
  let kind: SpecFlag["kind"] =
    SPECIAL_KIND[flag] ??
    (node.type === "secret"
      ? "secret"
      : values
        ? "enum"
        : node.type === "boolean"
          ? "boolean"
          : node.type === "number" || node.type === "integer"
            ? "number"
            : "string");
  if (node.type === "secret") kind = "secret";
  return {
    flag,
    path,
    description: String(node.description ?? ""),
    kind,
    ...(values ? { values } : {}),
    ...(node.default !== undefined ? { default: node.default } : {}),
    ...(Array.isArray(node.codes) ? { codes: node.codes as string[] } : {}),
  };
}

/** The flag(s) a user types for an option: secrets get -env and -file variants. */
export function flagSyntax(f: SpecFlag): string[] {
  switch (f.kind) {
    case "secret":
      return [`--${f.flag} <env:NAME|file:PATH>`];
    case "boolean":
      return [`--${f.flag}`, `--no-${f.flag}`];
    case "mp":
      return [`--${f.flag} <URL[,PRIORITY]>`];
    case "var":
      // Secret variables come by reference only, as every secret does.
      return [`--${f.flag} <NAME=VALUE>`, `--secret-${f.flag} <NAME=env:VAR|NAME=file:PATH>`];
    case "machine":
      return [`--${f.flag} <ARCH-FIRMWARE[:NIC][+sb[=microsoft|CERT]]>`];
    case "enum":
      return [`--${f.flag} <${f.values!.join("|")}>`];
    default:
      return [`--${f.flag} <value>`];
  }
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const many = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

/** Applies the flags present in cac's parsed options onto a raw (unvalidated) spec. */
export function applySpecFlags(raw: Record<string, unknown>, options: Record<string, unknown>, model: SpecModel): void {
  const all = specFlags(model);
  for (const f of all) {
    const key = camel(f.flag);
    if (f.kind === "secret") {
      const v = options[key];
      if (v !== undefined)
        setPath(
          raw,
          f.path,
          parseSecretFlag(`--${f.flag}`, String(Array.isArray(v) ? v[v.length - 1] : v)),
          f.shorthand,
        );
      continue;
    }
    const secretVars = f.kind === "var" ? options[camel(`secret-${f.flag}`)] : undefined;
    if (secretVars !== undefined) setPath(raw, f.path, secretVariables(f, secretVars, getPath(raw, f.path)));
    const v = options[key];
    if (v === undefined) continue;
    const value = convert(f, v, getPath(raw, f.path));
    const current = getPath(raw, f.path);
    // A shorthand flag (e.g. --content-library URL) given over the spec's object form replaces only its shorthand field.
    const form = all.find(
      (o) =>
        o.shorthand && o.shorthand.depth === f.path.length - 1 && o.path.slice(0, -1).join(".") === f.path.join("."),
    );
    if (form && current && typeof current === "object" && !Array.isArray(current))
      setPath(raw, [...f.path, form.shorthand!.key], value);
    else setPath(raw, f.path, value, f.shorthand);
  }
}

/**
 * A secret on the command line, by reference only and spelled one way everywhere:
 * `env:NAME` or `file:PATH` (as `--secret-var NAME=env:VAR` and `--answer password=env:NAME`).
 * Anything else may be the secret itself, so it is refused without being echoed.
 */
export function parseSecretFlag(flag: string, value: string): { env: string } | { file: string } {
  const m = /^(env|file):(.+)$/.exec(value);
  if (m && m[1] === "env" && ENV_NAME.test(m[2]!)) return { env: m[2]! };
  if (m && m[1] === "file") return { file: m[2]! };
  throw new BootmediaError(
    "BM1006",
    `${flag} takes env:NAME (a variable name) or file:PATH, not the secret itself; the value given is not shown`,
    { where: flag },
  );
}

/** `--secret-var NAME=env:VAR` / `NAME=file:PATH` into the spec's `{ value: {env|file}, secret: true }` form. */
function secretVariables(f: SpecFlag, v: unknown, current: unknown): Record<string, unknown> {
  const base = (current && typeof current === "object" ? current : {}) as Record<string, unknown>;
  for (const s of many(v)) {
    const i = s.indexOf("=");
    // The value is not echoed: it may be the secret itself.
    const name = i > 0 ? s.slice(0, i) : "NAME";
    base[name] = { value: parseSecretFlag(`--secret-${f.flag} ${name}=…`, i > 0 ? s.slice(i + 1) : ""), secret: true };
  }
  return base;
}

function convert(f: SpecFlag, v: unknown, current: unknown): unknown {
  switch (f.kind) {
    case "boolean":
      return v === true || v === "true";
    case "number":
      return Number(Array.isArray(v) ? v[v.length - 1] : v);
    case "capacity":
      return /^\d+$/.test(String(v)) ? Number(v) : String(v);
    case "list": {
      const vals = many(v).flatMap((s) => s.split(","));
      return vals.length === 1 && f.flag === "boot-image" ? vals[0] : vals;
    }
    case "mp":
      return many(v).map((s) => {
        const [url, priority] = s.split(",");
        return priority === undefined ? { url } : { url, priority: Number(priority) };
      });
    case "var": {
      const base = (current && typeof current === "object" ? current : {}) as Record<string, unknown>;
      for (const s of many(v)) {
        const i = s.indexOf("=");
        base[i < 0 ? s : s.slice(0, i)] = i < 0 ? "" : s.slice(i + 1);
      }
      return base;
    }
    case "machine":
      return many(v).map((s) => {
        // "+sb" marks Secure Boot on; "+sb=FILE" names the certificate the machine trusts.
        const sbAt = s.indexOf("+sb");
        const sb = sbAt < 0 ? undefined : s.slice(sbAt + 3);
        const [am, nic] = (sbAt < 0 ? s : s.slice(0, sbAt)).split(":");
        const [arch, firmware] = (am ?? "").split("-");
        const trust = sb?.startsWith("=") ? sb.slice(1) : sb ? sb : undefined;
        return {
          arch,
          firmware,
          ...(nic ? { nic } : {}),
          ...(sb !== undefined ? { secureBoot: true } : {}),
          ...(trust ? { trust } : {}),
        };
      });
    default: // a repeated single-value flag: the last one wins, as in most CLIs
      return String(Array.isArray(v) ? v[v.length - 1] : v);
  }
}

function getPath(obj: Record<string, unknown>, path: string[]): unknown {
  return path.reduce<unknown>(
    (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
    obj,
  );
}

function setPath(
  obj: Record<string, unknown>,
  path: string[],
  value: unknown,
  shorthand?: SpecFlag["shorthand"],
): void {
  let o = obj;
  for (const [i, k] of path.slice(0, -1).entries()) {
    // Never drop what the spec gave: a shorthand string or list becomes the object form's field.
    if (shorthand && i === shorthand.depth && (typeof o[k] === "string" || Array.isArray(o[k])))
      o[k] = { [shorthand.key]: o[k] };
    if (!o[k] || typeof o[k] !== "object") o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[path[path.length - 1]!] = value;
}
