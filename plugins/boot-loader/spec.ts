/** The boot loader's part of the spec: `bootLoader`. */
import { z } from "zod";
import { defineSection } from "../../core/spec-schema.ts";

/** Characters GRUB's script would read as syntax, and line breaks, never reach a kernel command line. */
const SAFE_ARGS = /^[^\n\r'"`$;&|<>\\{}]*$/;

export const BOOT_LOADER = defineSection(
  "bootLoader",
  z
    .object({
      kernelArgs: z
        .string()
        .regex(SAFE_ARGS, "may not hold quotes, $, ;, &, |, <, >, backslashes, braces or line breaks")
        .optional()
        .meta({
          description: "Extra kernel command-line arguments, appended to every boot image's own command line",
          flag: "kernel-args",
        }),
    })
    .strict()
    .optional()
    .meta({ description: "The boot loader bootmedia generates for the media (GRUB): extra kernel arguments" }),
);
