/** Codes of the boot-image plugin: package type and the architecture/firmware rules. */
import { defineCodes } from "../../base/errors.ts";

export const BOOT_IMAGE_CODES = defineCodes("boot-image", {
  BM2007: {
    title: "wrong package type",
    hint: "Use a package of the type the option expects (boot-image, prestart, task-sequence).",
  },
  BM3002: { title: "no boot image", hint: "Name a boot-image package in `bootImage`." },
  BM3003: {
    title: "architecture mismatch",
    hint: "Add a boot image whose architecture the target machines can run (x86 runs everywhere in BIOS mode).",
  },
  BM3004: { title: "missing driver", hint: "Add the driver to the boot image or pick a boot image that carries it." },
  BM3007: {
    title: "firmware not supported by the boot image",
    hint: "The boot image's manifest lists the firmware it boots on, and not this one; pick an image that does.",
  },
  BM3601: {
    title: "boot image kernel missing",
    hint: "The manifest's `kernel` names a file the package does not hold: re-import the image with `bootmedia library add-boot-image` (it writes the manifest).",
  },
  BM3602: {
    title: "boot image initrd missing",
    hint: "The manifest's `initrd` names a file the package does not hold: re-import the image with `bootmedia library add-boot-image`, or leave --initrd out for a kernel without one.",
  },
  BM3603: {
    title: "kernel is not an x86 Linux bzImage",
    hint: 'bootmedia boots x86 Linux kernels (bzImage, "HdrS" boot protocol): give the kernel file itself (vmlinuz), not a compressed ELF, an EFI stub of another OS or an initrd.',
  },
  BM3604: {
    title: "kernel architecture mismatch",
    hint: "The kernel's header says 32-bit or 64-bit and the manifest states the other: import it with the arch it has (--arch x86 for 32-bit, x64 for 64-bit).",
  },
  BM3605: {
    title: "two boot images of one architecture",
    hint: "A machine boots one image per architecture: keep one x86 and one x64 image at most in `bootImage`.",
  },
});
