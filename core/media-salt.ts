/**
 * Salts for the password verifier and the secret part's KDF (both plugins use them, so they
 * live here). Decision (plugins/password/README.md): a salt must be unique per media, not
 * secret, and must not depend on the password. We derive it from public facts only — a
 * purpose label, SOURCE_DATE_EPOCH and the spec as loaded (which holds secrets only by
 * reference) — so the same spec and epoch give the same bytes (reproducible media) while any
 * other media gets other salts.
 */
import { createHash } from "node:crypto";
import type { MediaSpec } from "./spec-schema.ts";

const SALT_PURPOSES = ["password-verifier", "secrets-kdf", "content-kdf", "media-set"] as const;
type SaltPurpose = (typeof SALT_PURPOSES)[number];

export function deriveMediaSalt(purpose: SaltPurpose, spec: MediaSpec, sourceDateEpoch: number, bytes: number): Buffer {
  const h = createHash("sha512");
  for (const part of [`bootmedia/${purpose}/v1`, String(sourceDateEpoch), canonicalJson(spec)])
    h.update(part).update("\0");
  return h.digest().subarray(0, bytes);
}

/** JSON with sorted keys, so equal specs hash equally whatever the key order in the file. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
