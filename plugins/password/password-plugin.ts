/**
 * The media password: resolved by reference (and registered with the redactor),
 * checked against the strength policy, and put on the media only as a salted, slow
 * SHA-512-crypt verifier the boot environment checks with busybox `mkpasswd`.
 */
import { diagnostic, diagnosticFromError } from "../../base/diagnostics.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import { checkPasswordPolicy, PASSWORD_POLICY } from "./policy.ts";
import { sha512Crypt, SHA512_CRYPT } from "./sha512-crypt.ts";
import { deriveMediaSalt } from "../../core/media-salt.ts";
import { PASSWORD, resolveMediaPassword } from "../../core/media-password.ts";
import "./codes.ts";

const PLUGIN_NAME = "PasswordPlugin";
export const VERIFIER_FILE = "bootmedia/password.sha512crypt";
/** ~0.35 s for busybox on a 2020s x86-64 core; see README for measurements. */
export const VERIFIER_ROUNDS = 500_000;

/** The verifier line for a password: crypt salt = 16 characters of the crypt alphabet. */
export function makeVerifier(password: string, salt: Buffer, rounds: number = VERIFIER_ROUNDS): string {
  const text = [...salt.subarray(0, SHA512_CRYPT.SALT_MAX)].map((b) => SHA512_CRYPT.ALPHABET[b & 0x3f]).join("");
  return sha512Crypt(password, text, rounds);
}

export class PasswordPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  constructor(private readonly rounds: number = VERIFIER_ROUNDS) {}

  apply(build: PluginBuild): void {
    const ctx = build.context;
    build.hooks.validate.tapPromise(PLUGIN_NAME, async (_media, reporter) => {
      if (!PASSWORD.of(ctx.spec)) return;
      let password: string | undefined;
      try {
        password = await resolveMediaPassword(ctx);
      } catch (e) {
        reporter.report(diagnosticFromError(e, PLUGIN_NAME, "security.password"));
        return;
      }
      for (const rule of checkPasswordPolicy(password!)) {
        reporter.report(
          diagnostic("BM3401", `the media password breaks the strength policy: ${rule}`, {
            path: "security.password",
            source: PLUGIN_NAME,
          }),
        );
      }
    });

    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.SETTINGS }, async (layout, media) => {
      const password = await resolveMediaPassword(ctx);
      if (password === undefined) {
        layout.config.password = { present: false };
        return layout;
      }
      const salt = deriveMediaSalt("password-verifier", media.spec, ctx.options.sourceDateEpoch, SHA512_CRYPT.SALT_MAX);
      const start = performance.now();
      const verifier = makeVerifier(password, salt, this.rounds);
      const data = new TextEncoder().encode(verifier + "\n");
      layout.volumes[0]!.entries.push({
        type: "file",
        path: VERIFIER_FILE,
        size: data.length,
        source: { kind: "bytes", data },
      });
      layout.config.password = {
        present: true,
        verifier: VERIFIER_FILE,
        scheme: "sha512-crypt",
        rounds: this.rounds,
        policy: { minLength: PASSWORD_POLICY.MIN_LENGTH, minClasses: PASSWORD_POLICY.MIN_CLASSES },
      };
      ctx.log.write(
        "password",
        `verifier ${VERIFIER_FILE}: SHA-512-crypt, ${this.rounds} rounds (computed in ${Math.round(performance.now() - start)} ms)`,
      );
      return layout;
    });
  }
}
