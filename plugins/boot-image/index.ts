/** The boot-image built-in: boot-image packages, their architecture and the firmware rules. */
import { definePlugin } from "../../core/plugin.ts";
import { BOOT_IMAGE_CODES } from "./codes.ts";

const plugin = definePlugin({
  name: "BootImagePlugin",
  describe: "Boot-image packages: architecture, drivers and boot files, checked against the machines",
  codes: BOOT_IMAGE_CODES,
  create: async () => new (await import("./boot-image-plugin.ts")).BootImagePlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
