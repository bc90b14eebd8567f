/** The directory built-in: the media tree written as a folder, and read back by `inspect`. */
import { definePlugin } from "../../core/plugin.ts";
import { DIRECTORY_TARGET } from "./spec.ts";

const plugin = definePlugin({
  name: "DirectoryWriterPlugin",
  describe: "The media tree as a folder (to copy onto a stick by hand, or to look at)",
  targets: [DIRECTORY_TARGET],
  inspector: async () => (await import("./inspect.ts")).directoryInspector,
  create: async () => new (await import("./directory-plugin.ts")).DirectoryWriterPlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
