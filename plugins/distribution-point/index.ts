/** The distribution-point built-in: content fetched over HTTP(S) from distribution points. */
import { definePlugin } from "../../core/plugin.ts";
import { DP_CODES } from "./codes.ts";
import { isRemoteLibrary } from "./library-ref.ts";
import { CONTENT_LIBRARY } from "./spec.ts";

const plugin = definePlugin({
  name: "DistributionPointPlugin",
  describe: "Content from distribution points over HTTP(S): auth, TLS, fallback, resume",
  sections: [CONTENT_LIBRARY],
  codes: DP_CODES,
  enabled: (spec) => isRemoteLibrary(CONTENT_LIBRARY.of(spec)),
  create: async () => new (await import("./distribution-point-plugin.ts")).DistributionPointPlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
