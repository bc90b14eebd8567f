/** The stand-alone plugin's part of the spec (`mediaType` itself is core's: core/spec-schema.ts). */
import { z } from "zod";
import { defineSection } from "../../core/spec-schema.ts";

export const ALLOW_UNPROTECTED = defineSection(
  "security.allowUnprotected",
  z
    .boolean()
    .default(false)
    .meta({
      description:
        "Stand-alone media: build them without a media password, their packages in clear on the media (a warning in the build log and in inspect)",
      flag: "allow-unprotected",
      codes: ["BM6102", "BM6103"],
    }),
);
