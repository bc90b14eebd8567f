/**
 * The secret part of the media configuration: secret variables and whatever other
 * plugins add through the `collect` hook (the media certificate's private key) are
 * encrypted into bootmedia/secrets.enc with a key derived from the media password
 * (secret-box.ts). Also checks variable names: a leading _ is read-only.
 */
import { BootmediaError } from "../../base/errors.ts";
import { diagnostic, diagnosticFromError } from "../../base/diagnostics.ts";
import { describeSecretRef, resolveSecret } from "../../core/secrets.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { ResolvedMedia } from "../../core/types.ts";
import type { SecretRef } from "../../core/spec-schema.ts";
import { renderConfigEnv } from "../../core/media-config.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import { PASSWORD, resolveMediaPassword } from "../../core/media-password.ts";
import { deriveMediaSalt } from "../../core/media-salt.ts";
import { DEFAULT_KDF, sealSecrets, SECRETS_FILE, SECRETS_MAGIC, type KdfParams } from "./secret-box.ts";
import "./codes.ts";
import { VARIABLES } from "../media-config/index.ts";
import { getSecretsHooks, type SecretsHooks } from "./hooks.ts";

const PLUGIN_NAME = "SecretsPlugin";
export const SECRETS_PATH = "bootmedia/secrets.enc";
/** Secret variable NAME is `BM_VAR_NAME` in the decrypted secrets.env. */
const SECRET_VARIABLE_PREFIX = "BM_VAR_";
/** Decrypted secrets.env lists the secret variables' names here (space-separated). */
const SECRET_VARIABLE_LIST = "BM_SECRET_VARIABLES";

type SecretVariable = { value: SecretRef; secret: true };
const secretVariables = (media: ResolvedMedia) =>
  Object.entries(VARIABLES.of(media.spec)).filter((e): e is [string, SecretVariable] => typeof e[1] !== "string");

export class SecretsPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  /** The secrets hooks of a build (the webpack getHooks pattern): tap `collect` to add a secret. */
  static getHooks(build: PluginBuild): SecretsHooks {
    return getSecretsHooks(build);
  }

  private readonly values = new Map<string, string>();

  constructor(private readonly kdf: KdfParams = DEFAULT_KDF) {}

  apply(build: PluginBuild): void {
    const ctx = build.context;
    const hooks = SecretsPlugin.getHooks(build);

    build.hooks.validate.tapPromise(PLUGIN_NAME, async (media, reporter) => {
      for (const name of Object.keys(VARIABLES.of(media.spec))) {
        if (name.startsWith("_")) {
          reporter.report(
            diagnostic(
              "BM3403",
              `variable ${name} is read-only: names starting with _ are set by the deployment engine`,
              { path: `customization.variables.${name}`, source: PLUGIN_NAME },
            ),
          );
        }
      }
      const secrets = secretVariables(media);
      if (secrets.length > 0 && !PASSWORD.of(media.spec)) {
        reporter.report(
          diagnostic(
            "BM3402",
            `secret variable${secrets.length > 1 ? "s" : ""} ${secrets.map(([n]) => n).join(", ")} need${secrets.length > 1 ? "" : "s"} a media password: the secret part is encrypted with it`,
            { path: "security.password", source: PLUGIN_NAME },
          ),
        );
      }
      for (const [name, v] of secrets) {
        const where = `customization.variables.${name}`;
        try {
          this.values.set(name, await resolveSecret(v.value, ctx.specDir, ctx.redactor, where));
        } catch (e) {
          reporter.report(diagnosticFromError(e, PLUGIN_NAME, where));
        }
      }
    });

    hooks.collect.tapPromise(PLUGIN_NAME, async (entries, media) => {
      const secrets = secretVariables(media);
      if (secrets.length === 0) return entries;
      entries[SECRET_VARIABLE_LIST] = secrets.map(([n]) => n).join(" ");
      for (const [name] of secrets) entries[SECRET_VARIABLE_PREFIX + name] = this.values.get(name)!;
      return entries;
    });

    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.SECRETS }, async (layout, media) => {
      const names = secretVariables(media).map(([n, v]) => {
        ctx.log.write("config", `variable ${n}=${describeSecretRef(v.value)} (secret: encrypted in ${SECRETS_PATH})`);
        return n;
      });
      layout.config.secretVariables = names;
      const entries = await hooks.collect.promise({}, media);
      const keys = Object.keys(entries).sort();
      if (keys.length === 0) {
        layout.config.secrets = { present: false };
        return layout;
      }
      const password = await resolveMediaPassword(ctx);
      if (password === undefined)
        throw new BootmediaError(
          "BM3402",
          `${keys.join(", ")} must be encrypted on the media, and there is no media password`,
          { where: "security.password" },
        );
      const plaintext = Buffer.from(renderConfigEnv(Object.fromEntries(keys.map((k) => [k, entries[k]!]))));
      const salt = deriveMediaSalt("secrets-kdf", media.spec, ctx.options.sourceDateEpoch, SECRETS_FILE.salt.size);
      const start = performance.now();
      const data = sealSecrets(plaintext, password, salt, this.kdf);
      plaintext.fill(0);
      layout.volumes[0]!.entries.push({
        type: "file",
        path: SECRETS_PATH,
        size: data.length,
        source: { kind: "bytes", data: new Uint8Array(data) },
      });
      const kdf = { name: "scrypt", N: 2 ** this.kdf.log2N, r: this.kdf.r, p: this.kdf.p };
      layout.config.secrets = {
        present: true,
        file: SECRETS_PATH,
        format: SECRETS_MAGIC,
        kdf,
        cipher: "AES-256-CBC",
        mac: "HMAC-SHA256",
        entries: keys,
      };
      ctx.log.write(
        "secrets",
        `${SECRETS_PATH}: ${keys.length} entries (${keys.join(", ")}), scrypt N=${kdf.N} r=${kdf.r} p=${kdf.p}, AES-256-CBC + HMAC-SHA256 (sealed in ${Math.round(performance.now() - start)} ms)`,
      );
      return layout;
    });
  }
}
