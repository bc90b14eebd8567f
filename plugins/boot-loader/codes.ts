/** Codes of the boot loader: GRUB's tools on this machine and its boot-file build. */
import { defineCodes } from "../../base/errors.ts";

export const BOOT_LOADER_CODES = defineCodes("boot-loader", {
  BM4401: {
    title: "boot loader tools missing",
    hint: "bootmedia builds its GRUB boot files with grub-mkimage and Debian's GRUB platform files: run `bootmedia doctor --install` (grub-common, grub-pc-bin, grub-efi-amd64-bin, grub-efi-ia32-bin).",
  },
  BM4402: {
    title: "boot loader build failed",
    hint: "grub-mkimage refused the module list or the early configuration; the message shows its output. Reinstall the GRUB packages (`bootmedia doctor --install`).",
  },
});
