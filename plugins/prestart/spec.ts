/** The prestart plugin's part of the spec: `customization.prestart`. */
import { z } from "zod";
import { defineSection } from "../../core/spec-schema.ts";

export const PRESTART = defineSection(
  "customization.prestart",
  z
    .object({
      command: z.string().min(1).meta({
        description: "Prestart command line, run before contacting a management point",
        flag: "prestart-command",
      }),
      files: z
        .string()
        .optional()
        .meta({
          description: "Folder copied to the media as the prestart files (bootmedia/prestart/), relative to the spec",
          flag: "prestart-files",
          codes: ["BM1003"],
        }),
    })
    .strict()
    .optional()
    .meta({
      description:
        "Prestart command and its files: the boot environment runs the command before contacting a management point",
    }),
);
