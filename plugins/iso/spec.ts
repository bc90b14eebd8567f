/** The `iso` target type and its options. */
import { z } from "zod";
import { defineTargetType } from "../../core/spec-schema.ts";

export const CAPACITIES = ["cd650", "cd700", "dvd", "dvd-dl", "bd25", "unlimited"] as const;

export const ISO_TARGET = defineTargetType(
  "iso",
  { description: "a CD/DVD set of .iso files", writes: "file" },
  {
    capacity: z
      .union([z.enum(CAPACITIES), z.number().int().positive()])
      .optional()
      .meta({
        description:
          "ISO capacity per volume (cd650|cd700|dvd|dvd-dl|bd25|unlimited or bytes); content that does not fit is split into numbered volumes",
        flag: "capacity",
        codes: ["BM3110"],
      }),
  },
);
