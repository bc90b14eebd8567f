/** The prestart built-in: `customization.prestart`, its command and files on the media. */
import { definePlugin } from "../../core/plugin.ts";
import { PRESTART } from "./spec.ts";

const plugin = definePlugin({
  name: "PrestartPlugin",
  describe: "The prestart command and its files",
  sections: [PRESTART],
  enabled: (spec) => PRESTART.of(spec) !== undefined,
  create: async () => new (await import("./prestart-plugin.ts")).PrestartPlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
