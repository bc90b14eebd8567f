/** The password built-in: `security.password`, kept on the media only as a slow salted verifier. */
import { definePlugin } from "../../core/plugin.ts";
import { PASSWORD_CODES } from "./codes.ts";
import { PASSWORD } from "../../core/media-password.ts";

const plugin = definePlugin({
  name: "PasswordPlugin",
  describe: "The media password: policy check and the SHA-512-crypt verifier on the media",
  sections: [PASSWORD],
  codes: PASSWORD_CODES,
  create: async () => new (await import("./password-plugin.ts")).PasswordPlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
