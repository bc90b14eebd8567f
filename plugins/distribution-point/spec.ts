/**
 * The distribution-point plugin's part of the spec: `contentLibrary` may also be a URL, a
 * list of URLs (tried in order) or the object form with auth and TLS settings.
 */
import { z } from "zod";
import { CORE_FIELDS, defineSection, secretRef } from "../../core/spec-schema.ts";

const locations = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const contentLibrary = z.union([
  z.string().min(1),
  z.array(z.string().min(1)).min(1),
  z
    .object({
      urls: locations.meta({ description: "Distribution point URL(s), tried in order" }),
      auth: z
        .union([
          z.object({ bearer: secretRef("Bearer token, by reference", "") }).strict(),
          z
            .object({
              basic: z.object({ user: z.string().min(1), password: secretRef("Password, by reference", "") }).strict(),
            })
            .strict(),
        ])
        .optional()
        .meta({
          description:
            "Credentials for the distribution points: { bearer: {env|file} } or { basic: { user, password: {env|file} } }",
        }),
      clientCert: z
        .object({
          cert: z.string().min(1).meta({ description: "Client certificate (PEM), relative to the spec" }),
          key: z.string().min(1).meta({ description: "Its private key (PEM), relative to the spec" }),
        })
        .strict()
        .optional()
        .meta({ description: "TLS client certificate for distribution points that require one" }),
      caFile: z
        .string()
        .min(1)
        .optional()
        .meta({
          description:
            "CA certificate(s) (PEM) that sign the distribution points' TLS certificates, relative to the spec",
          flag: "ca-file",
          codes: ["BM2103", "BM2106"],
        }),
    })
    .strict()
    // A flag that sets a field of this object turns a shorthand (URL or list) into { urls }.
    .meta({ shorthand: "urls" }),
]);

export const CONTENT_LIBRARY = defineSection(
  "contentLibrary",
  contentLibrary.default("embedded").meta(CORE_FIELDS.contentLibrary.meta() ?? {}),
);

export type ContentLibrarySpec = z.output<typeof contentLibrary>;
