/**
 * Secrets arrive only by reference ({ env } or { file }). Every resolved value is
 * registered with the build's redactor, so logs and output never show it.
 */
import { resolve } from "node:path";
import { BootmediaError } from "../base/errors.ts";
import { LIMITS, readInputFile } from "./limits.ts";
import type { SecretRef } from "./spec-schema.ts";
import "./codes.ts";

/** Every redactor of this process, so the CLI can scrub whatever it prints (defence in depth). */
const allRedactors = new Set<Redactor>();

export function redactEverywhere(text: string): string {
  let out = redactUrls(text);
  for (const r of allRedactors) out = r.redact(out);
  return out;
}

/**
 * URLs lose their userinfo and query string wherever bootmedia prints or logs them: a
 * distribution point's `?token=…` or `user:password@` is a credential.
 */
const URL_PARTS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>]*@)?([^\s?#"'<>]*)(\?[^\s#"'<>]*)?/gi;
export function redactUrls(text: string): string {
  return text.replace(
    URL_PARTS,
    (_m, scheme: string, userinfo: string | undefined, rest: string, query: string | undefined) =>
      `${scheme}${userinfo ? "***@" : ""}${rest}${query ? "?***" : ""}`,
  );
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
    let out = redactUrls(text);
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join("***");
    return out;
  }
}

export async function resolveSecret(
  ref: SecretRef,
  baseDir: string,
  redactor: Redactor,
  where: string,
): Promise<string> {
  let value: string | undefined;
  if ("env" in ref) {
    value = process.env[ref.env];
    if (value === undefined) {
      throw new BootmediaError("BM1007", `${where}: environment variable ${ref.env} is not set`, { where });
    }
  } else {
    value = (
      await readInputFile(resolve(baseDir, ref.file), {
        label: `${where}: secret file`,
        maxBytes: LIMITS.secretBytes,
        code: "BM1007",
        where,
      })
    ).replace(/\r?\n$/, "");
  }
  redactor.add(value);
  return value;
}

/** How a secret reference is shown in logs: where it came from, never its value. */
export function describeSecretRef(ref: SecretRef): string {
  return "env" in ref ? `*** (from env ${ref.env})` : `*** (from file ${ref.file})`;
}
