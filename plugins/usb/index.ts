/** The usb built-in: the `usb` target (image file or drive), USB image reading, and `bootmedia image fat`. */
import { definePlugin } from "../../core/plugin.ts";
import { FAT_CODES } from "../../formats/fat/codes.ts";
import { DISK_CODES } from "../../formats/disk/codes.ts";
import { USB_CODES } from "./codes.ts";
import { USB_TARGET } from "./spec.ts";

/** Sizes as `target.size` takes them (2GiB, 512M, bytes), for other plugins' checks. */
export { parseSize } from "./size.ts";

const plugin = definePlugin({
  name: "UsbPlugin",
  describe: "USB drives and disk images: MBR, one FAT32 partition, BIOS and UEFI boot",
  targets: [USB_TARGET],
  codes: { ...FAT_CODES, ...DISK_CODES, ...USB_CODES },
  inspector: async () => (await import("./inspect.ts")).usbInspector,
  imageFormats: { fat: async () => (await import("./image-command.ts")).FAT_IMAGE_FORMAT },
  create: async () => new (await import("./usb-plugin.ts")).UsbPlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
