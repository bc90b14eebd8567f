/** The boot-loader built-in: GRUB boot files from bootmedia's own build and a grub.cfg generated from the images. */
import { definePlugin } from "../../core/plugin.ts";
import { BOOT_LOADER_CODES } from "./codes.ts";
import { BOOT_LOADER } from "./spec.ts";

const plugin = definePlugin({
  name: "BootLoaderPlugin",
  describe: "The boot loader (GRUB): its boot files and a grub.cfg generated from the boot images' manifests",
  sections: [BOOT_LOADER],
  codes: BOOT_LOADER_CODES,
  create: async () => new (await import("./boot-loader-plugin.ts")).BootLoaderPlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;

/** bootmedia's own GRUB build, for a plugin that lays out a boot chain around it (Secure Boot's); loaded when asked, like the plugin itself. */
export const loadBootLoaderBuild = () => import("./boot-loader-build.ts");
