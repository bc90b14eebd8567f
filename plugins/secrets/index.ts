/** The secrets built-in: secret variables and private keys sealed with the media password. */
import { definePlugin } from "../../core/plugin.ts";
import { SECRETS_CODES } from "./codes.ts";

export { getSecretsHooks, type SecretEntries, type SecretsHooks } from "./hooks.ts";
/** The KDF the secret part uses (scrypt and its parameters), for other content sealed with the media password. */
export { DEFAULT_KDF, deriveSecretKeys, type KdfParams } from "./secret-box.ts";

const plugin = definePlugin({
  name: "SecretsPlugin",
  describe: "Secret task-sequence variables and keys, encrypted under the media password",
  codes: SECRETS_CODES,
  create: async () => new (await import("./secrets-plugin.ts")).SecretsPlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
