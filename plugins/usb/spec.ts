/** The `usb` target type and its options. */
import { z } from "zod";
import { defineTargetType } from "../../core/spec-schema.ts";

export const USB_TARGET = defineTargetType(
  "usb",
  { description: "a FAT32 USB drive or disk image", writes: "file", drives: true },
  {
    size: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(B|K|KiB|M|MiB|G|GiB)?$/i)
      .optional()
      .meta({
        description: "USB image size (e.g. 2GiB); default: fits the content",
        flag: "size",
        codes: ["BM3201", "BM3202"],
      }),
  },
);
