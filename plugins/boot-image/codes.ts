/** Codes of the boot-image plugin: package type and the architecture/firmware rules. */
import { defineCodes } from "../../base/errors.ts";

export const BOOT_IMAGE_CODES = defineCodes("boot-image", {
  BM2007: { title: "wrong package type", hint: "Use a package of the type the option expects (boot-image, prestart, task-sequence)." },
  BM3002: { title: "no boot image", hint: "Name a boot-image package in `bootImage`." },
  BM3003: { title: "architecture mismatch", hint: "Add a boot image whose architecture the target machines can run (x86 runs everywhere in BIOS mode)." },
  BM3004: { title: "missing driver", hint: "Add the driver to the boot image or pick a boot image that carries it." },
  BM3007: { title: "no firmware boot files", hint: "The boot image carries no boot files for the firmware asked for; pick one that does." },
});
