/** The password plugin's part of the spec: `security.password`. */
import { defineSection, secretRef } from "../../core/spec-schema.ts";

export const PASSWORD = defineSection(
  "security.password",
  secretRef("Media password, by reference (>= 12 characters, 3 of 4 classes; the media holds only a SHA-512-crypt verifier)", "password", ["BM3401", "BM3010"]).optional(),
);
