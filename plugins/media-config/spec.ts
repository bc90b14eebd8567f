/**
 * The media-config plugin's parts of the spec: deployment settings the booted machine reads
 * (management points, unattended, unknown computers, user device affinity, variables).
 */
import { z } from "zod";
import { defineSection, secretRef } from "../../core/spec-schema.ts";

export const MP_MODES = ["dynamic", "site-based"] as const;
export const UDA_MODES = ["auto", "pending", "none"] as const;

const managementPoint = z
  .object({
    url: z.string().meta({ description: "Management point URL (http or https)" }),
    priority: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: "Order of first contact, 1 first (dynamic media)" }),
  })
  .strict();

const variableValue = z.union([
  z.string(),
  z
    .object({
      value: secretRef("A secret variable value, by reference: encrypted into bootmedia/secrets.enc, *** in logs", "", [
        "BM3402",
      ]),
      secret: z.literal(true),
    })
    .strict(),
]);

export const UNATTENDED = defineSection(
  "unattended",
  z
    .boolean()
    .default(false)
    .meta({ description: "Allow unattended deployment: no prompts except the media password", flag: "unattended" }),
);

export const MANAGEMENT_POINTS = defineSection(
  "managementPoints",
  z
    .object({
      mode: z.enum(MP_MODES).meta({
        description: "dynamic: list in priority order, an MP may redirect; site-based: exactly one MP",
        flag: "mode",
        codes: ["BM3009"],
      }),
      list: z
        .array(managementPoint)
        .min(1)
        .meta({ description: "Management points", flag: "mp", codes: ["BM3009"] }),
    })
    .strict()
    .optional()
    .meta({ description: "Management points the booted machine contacts" }),
);

export const UNKNOWN_COMPUTERS = defineSection(
  "security.unknownComputers",
  z.boolean().default(false).meta({ description: "Enable unknown computer support", flag: "unknown-computers" }),
);

export const USER_DEVICE_AFFINITY = defineSection(
  "security.userDeviceAffinity",
  z.enum(UDA_MODES).default("none").meta({ description: "User device affinity: auto | pending | none", flag: "uda" }),
);

export const VARIABLES = defineSection(
  "customization.variables",
  z
    .record(
      z
        .string()
        .regex(
          /^_?[A-Za-z][A-Za-z0-9_]{0,127}$/,
          "a letter, then letters, digits or _ (max 128); a leading _ is read-only (BM3403)",
        ),
      variableValue,
    )
    .default({})
    .meta({
      description:
        "Task-sequence variables (NAME: value, or { value: {env|file}, secret: true }); names: a letter, then letters, digits or _ (max 128); a leading _ is read-only",
      flag: "var",
      codes: ["BM1006", "BM3402", "BM3403"],
    }),
);

export const MEDIA_CONFIG_SECTIONS = [
  UNATTENDED,
  MANAGEMENT_POINTS,
  UNKNOWN_COMPUTERS,
  USER_DEVICE_AFFINITY,
  VARIABLES,
];
