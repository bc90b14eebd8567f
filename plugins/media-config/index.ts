/** The media-config built-in: the deployment settings the booted machine reads from `bootmedia/`. */
import { definePlugin } from "../../core/plugin.ts";
import { MEDIA_CONFIG_CODES } from "./codes.ts";
import { MEDIA_CONFIG_SECTIONS } from "./spec.ts";

/** Task-sequence variables: the secrets plugin seals the secret ones. */
export { VARIABLES } from "./spec.ts";

const plugin = definePlugin({
  name: "MediaConfigPlugin",
  describe: "Management points, unattended, unknown computers, user device affinity and variables on the media",
  sections: MEDIA_CONFIG_SECTIONS,
  codes: MEDIA_CONFIG_CODES,
  create: async () => new (await import("./media-config-plugin.ts")).MediaConfigPlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
