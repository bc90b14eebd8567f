/**
 * Secrets arrive only by reference ({ env } or { file }). Every resolved value is
 * registered with the build's redactor, so logs and output never show it.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { BootmediaError } from "../base/errors.ts";
import type { SecretRef } from "./spec-schema.ts";
import "./codes.ts";

/** Every redactor of this process, so the CLI can scrub whatever it prints (defence in depth). */
const allRedactors = new Set<Redactor>();

export function redactEverywhere(text: string): string {
  let out = text;
  for (const r of allRedactors) out = r.redact(out);
  return out;
}

export class Redactor {
  private readonly values = new Set<string>();
  constructor() {
    allRedactors.add(this);
  }
  add(secret: string): void {
    if (secret.length > 0) this.values.add(secret);
  }
  /** Replaces every registered secret in `text` with ***. */
  redact(text: string): string {
    let out = text;
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join("***");
    return out;
  }
}

export async function resolveSecret(ref: SecretRef, baseDir: string, redactor: Redactor, where: string): Promise<string> {
  let value: string | undefined;
  if ("env" in ref) {
    value = process.env[ref.env];
    if (value === undefined) {
      throw new BootmediaError("BM1007", `${where}: environment variable ${ref.env} is not set`, { where });
    }
  } else {
    try {
      value = (await readFile(resolve(baseDir, ref.file), "utf8")).replace(/\r?\n$/, "");
    } catch (e) {
      throw new BootmediaError("BM1007", `${where}: cannot read secret file ${ref.file} (${(e as NodeJS.ErrnoException).code})`, { where });
    }
  }
  redactor.add(value);
  return value;
}

/** How a secret reference is shown in logs: where it came from, never its value. */
export function describeSecretRef(ref: SecretRef): string {
  return "env" in ref ? `*** (from env ${ref.env})` : `*** (from file ${ref.file})`;
}
