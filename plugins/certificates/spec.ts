/** The certificates plugin's part of the spec: `security.certificate` (self-signed or PKI, exactly one). */
import { z } from "zod";
import { defineSection, secretRef } from "../../core/spec-schema.ts";

/** Both modes are optional objects so each field has its own CLI flag. */
const certificate = z
  .object({
    selfSigned: z
      .object({
        start: z.coerce.string().meta({
          description: "Self-signed certificate: first valid day (YYYY-MM-DD, UTC, or ISO 8601 date-time)",
          flag: "cert-start",
          codes: ["BM3404", "BM3407"],
        }),
        expire: z.coerce.string().meta({
          description:
            "Self-signed certificate: expiry (YYYY-MM-DD, UTC, or ISO 8601 date-time); after start, not past, >30 days away",
          flag: "cert-expire",
          codes: ["BM3404", "BM3405", "BM3406"],
        }),
      })
      .strict()
      .optional()
      .meta({
        description:
          "Self-signed media certificate (ECDSA P-256, client authentication); its key is encrypted in the secret part",
        codes: ["BM3402"],
      }),
    pki: z
      .object({
        file: z
          .string()
          .min(1)
          .meta({
            description: "PKI client certificate: .pfx/.p12 with private key and chain, relative to the spec",
            flag: "pfx",
            codes: ["BM3408", "BM3409", "BM3410", "BM3411", "BM3412", "BM3413"],
          }),
        password: secretRef("PFX password, by reference", "pfx-password", ["BM3408"]),
      })
      .strict()
      .optional()
      .meta({
        description: "Imported PKI media certificate; its key is encrypted in the secret part",
        codes: ["BM3402", "BM3405", "BM3407"],
      }),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.selfSigned ? 1 : 0) + (v.pki ? 1 : 0) !== 1)
      ctx.addIssue({ code: "custom", message: "give exactly one of selfSigned or pki" });
  });

export const CERTIFICATE = defineSection(
  "security.certificate",
  certificate.optional().meta({
    description:
      "Media certificate: self-signed (start/expire dates) or an imported PKI .pfx (exactly one); needs a media password",
  }),
);
