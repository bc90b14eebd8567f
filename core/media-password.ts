/**
 * The media password: one secret several features build on — the password plugin puts its
 * verifier on the media, the secrets plugin seals the secret part with it, the certificate's
 * private key needs that part — so its spec section (declared by the password plugin) and its
 * resolution live here, below them. Resolved once per build, and registered with the redactor.
 */
import type { BuildContext } from "./context.ts";
import { resolveSecret } from "./secrets.ts";
import { defineSection, secretRef } from "./spec-schema.ts";

export const PASSWORD = defineSection(
  "security.password",
  secretRef(
    "Media password, by reference (>= 12 characters, 3 of 4 classes; the media holds only a SHA-512-crypt verifier)",
    "password",
    ["BM3401", "BM3010"],
  ).optional(),
);

const passwords = new WeakMap<BuildContext, Promise<string | undefined>>();

/** The media password of this build, resolved once (and redacted everywhere); undefined when none is set. */
export function resolveMediaPassword(ctx: BuildContext): Promise<string | undefined> {
  let p = passwords.get(ctx);
  if (!p) {
    const ref = PASSWORD.of(ctx.spec);
    p = ref ? resolveSecret(ref, ctx.specDir, ctx.redactor, "security.password") : Promise.resolve(undefined);
    passwords.set(ctx, p);
  }
  return p;
}
