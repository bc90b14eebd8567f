/**
 * Loads a media spec (YAML or JSON): parses, validates against the schema and reports
 * every problem at once, each with file:line:column, a stable BM1xxx code and a hint.
 */
import { dirname, join, resolve } from "node:path";
import { LineCounter, parseDocument, isNode, type Document } from "yaml";
import type { z } from "zod";
import { diagnostic, DiagnosticsError, type Diagnostic } from "../base/diagnostics.ts";
import { type ErrorCode } from "../base/errors.ts";
import type { MediaSpec } from "./spec-schema.ts";
import type { SpecModel } from "./spec-model.ts";
import "./codes.ts";
import { LIMITS, readInputFile } from "./limits.ts";
import { checkSpecDocument, parseBounded, toJsBounded } from "./yaml-limits.ts";

export interface LoadedSpec {
  spec: MediaSpec;
  /** Absolute path of the spec file; relative paths in the spec resolve against its folder. */
  file: string;
  dir: string;
}

/**
 * How a raw spec becomes a validated one: `model` gives the composed schema for the raw spec
 * (its `plugins:` decide which third-party sections exist); `overrides` (CLI flags) apply first.
 * @public reachable from the package's API types.
 */
export interface SpecSource {
  model(raw: Record<string, unknown>, dir: string): Promise<SpecModel>;
  overrides?(raw: Record<string, unknown>, model: SpecModel): void;
}

/** Reads and validates a spec file. */
export async function loadSpecFile(file: string, source: SpecSource): Promise<LoadedSpec & { model: SpecModel }> {
  const abs = resolve(file);
  const text = await readInputFile(abs, { label: "spec", maxBytes: LIMITS.specBytes, code: "BM1001", where: file });
  const lines = new LineCounter();
  // Duplicate keys are found by checkSpecDocument in one pass: yaml's own check compares
  // every key with every earlier one (quadratic: 40,000 variables took 10 s).
  const doc = parseBounded(text, file, { lineCounter: lines });
  const where = (offset: number) => {
    const p = lines.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    throw new DiagnosticsError(
      doc.errors.map((e) => diagnostic("BM1002", e.message.split("\n")[0]!, { path: where(e.pos[0]) })),
    );
  }
  const problems = checkSpecDocument(doc, where, file);
  if (problems.length > 0) throw new DiagnosticsError(problems);
  const raw = (toJsBounded(doc, file) ?? {}) as Record<string, unknown>;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new DiagnosticsError([
      diagnostic("BM1002", "the spec must be a mapping of options", { path: `${file}:1:1` }),
    ]);
  }
  const model = await source.model(raw, dirname(abs));
  source.overrides?.(raw, model);
  const result = model.schema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new DiagnosticsError(result.error.issues.map((i) => issueToDiagnostic(i, doc, where, file)));
  }
  return { spec: result.data, file: abs, dir: dirname(abs), model };
}

/** Validates a spec given as an object (flags only, or a program's own spec). */
export async function loadSpecObject(
  raw: Record<string, unknown>,
  dir: string,
  source: SpecSource,
): Promise<LoadedSpec & { model: SpecModel }> {
  const model = await source.model(raw, dir);
  source.overrides?.(raw, model);
  const result = model.schema.safeParse(raw);
  if (!result.success) {
    const doc = parseDocument(JSON.stringify(raw));
    throw new DiagnosticsError(
      result.error.issues.map((i) => issueToDiagnostic(i, doc, () => "command line", "command line")),
    );
  }
  return { spec: result.data, file: join(dir, "(command line)"), dir, model };
}

function issueToDiagnostic(
  issue: z.core.$ZodIssue,
  doc: Document,
  where: (o: number) => string,
  file: string,
): Diagnostic {
  const keyPath = issue.path.map(String);
  const code = codeOf(issue);
  let message = issue.message;
  let path = keyPath;
  if (issue.code === "unrecognized_keys") {
    message = `unknown option${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    path = [...keyPath, issue.keys[0]!];
  }
  const dotted = path.join(".") || "(top level)";
  // Show what was given, except for secret fields (their issues carry a bm code).
  const input = (issue as { input?: unknown }).input;
  if (
    code === "BM1003" &&
    (issue as { params?: { bm?: string } }).params?.bm === undefined &&
    input !== undefined &&
    typeof input !== "object"
  ) {
    message = `${JSON.stringify(input)} is not valid: ${message}`;
  }
  if (code === "BM1005") message = `required option "${dotted}" is missing`;
  return diagnostic(code, message, {
    path: `${locate(doc, path, where, issue.code === "unrecognized_keys") ?? `${file}`} (${dotted})`,
  });
}

/** The stable code of a schema issue (the wizard checks answers with the same codes as `build`). */
export function codeOf(issue: z.core.$ZodIssue): ErrorCode {
  if (issue.code === "custom" && typeof issue.params?.bm === "string") return issue.params.bm as ErrorCode;
  if (issue.code === "unrecognized_keys") return "BM1004";
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) return "BM1005";
  return "BM1003";
}

/** The line:column of the value (or key) at `path`, or of its nearest existing parent. */
function locate(doc: Document, path: string[], where: (o: number) => string, wantKey: boolean): string | undefined {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    if (wantKey && n === path.length && n > 0) {
      const parent = n === 1 ? doc.contents : doc.getIn(sub.slice(0, -1), true);
      const pair = (parent as { items?: Array<{ key: unknown }> } | null)?.items?.find(
        (it) => isNode(it.key) && (it.key as { value?: unknown }).value === sub[n - 1],
      );
      if (pair && isNode(pair.key) && pair.key.range) return where(pair.key.range[0]);
      continue;
    }
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    if (isNode(node) && node.range) return where(node.range[0]);
  }
  return undefined;
}
