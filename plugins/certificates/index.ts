/** The certificates built-in: `security.certificate`, self-signed or imported from a .pfx. */
import { definePlugin } from "../../core/plugin.ts";
import { CERTIFICATE_CODES } from "./codes.ts";
import { CERTIFICATE } from "./spec.ts";

const plugin = definePlugin({
  name: "CertificatePlugin",
  describe: "The media certificate: self-signed with start and expiry dates, or an imported PKI .pfx",
  sections: [CERTIFICATE],
  codes: CERTIFICATE_CODES,
  enabled: (spec) => CERTIFICATE.of(spec) !== undefined,
  create: async () => new (await import("./certificate-plugin.ts")).CertificatePlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
