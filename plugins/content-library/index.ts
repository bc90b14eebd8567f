/** The content-library built-in: packages from a library folder (or the embedded sample library). */
import { definePlugin } from "../../core/plugin.ts";

const plugin = definePlugin({
  name: "ContentLibraryPlugin",
  describe: "Packages from a content library folder, or `embedded` for the sample library",
  create: async () => new (await import("./content-library-plugin.ts")).ContentLibraryPlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
