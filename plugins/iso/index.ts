/** The iso built-in: the `iso` target, ISO reading for `inspect`, and `bootmedia image iso`. */
import { definePlugin } from "../../core/plugin.ts";
import { ISO_CODES } from "../../formats/iso9660/codes.ts";
import { ISO_PLUGIN_CODES } from "./codes.ts";
import { ISO_TARGET } from "./spec.ts";

/** `target.capacity` in bytes, for other plugins' checks. */
export { capacityBytes } from "./capacity.ts";

/**
 * The size of one volume's ISO image as the writer will write it (its own plan), loaded on
 * first use: stand-alone media size the discs of their sets with it.
 */
export const loadVolumeSizer = async () => (await import("./iso-options.ts")).plannedVolumeBytes;

const plugin = definePlugin({
  name: "IsoPlugin",
  describe: "CD/DVD sets: ISO 9660 + Joliet + Rock Ridge, El Torito BIOS and UEFI, hybrid MBR, numbered volumes",
  targets: [ISO_TARGET],
  codes: { ...ISO_CODES, ...ISO_PLUGIN_CODES },
  inspector: async () => (await import("./inspect.ts")).isoInspector,
  imageFormats: { iso: async () => (await import("./image-command.ts")).ISO_IMAGE_FORMAT },
  create: async () => new (await import("./iso-plugin.ts")).IsoPlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
