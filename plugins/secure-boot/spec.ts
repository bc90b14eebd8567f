/** The Secure Boot part of the spec: `secureBoot` (the boot chain the media carry for x64 UEFI). */
import { z } from "zod";
import { defineSection, secretRef } from "../../core/spec-schema.ts";
import { SB_CHAINS } from "../../core/secure-boot.ts";

const signing = z
  .object({
    key: secretRef("Own-key chain: the PEM private key that signs shim and GRUB, by reference", "signing-key", [
      "BM3707",
      "BM3708",
    ]),
    certificate: z
      .string()
      .min(1)
      .meta({
        description:
          "Own-key chain: the key's certificate (PEM or DER), relative to the spec; machines with it in db (or MOK) start the media",
        flag: "signing-cert",
        codes: ["BM3707", "BM3708"],
      }),
    password: secretRef(
      "Own-key chain: the password of an encrypted signing key, by reference",
      "signing-key-password",
      ["BM3707"],
    ).optional(),
  })
  .strict();

export const SECURE_BOOT = defineSection(
  "secureBoot",
  z
    .object({
      chain: z.enum(SB_CHAINS).meta({
        description:
          "Boot chain for x64 UEFI: unsigned (bootmedia's GRUB), signed (Debian's Microsoft-signed shim, Debian-signed GRUB and kernel), own-key (shim and bootmedia's GRUB signed with secureBoot.signing)",
        flag: "secure-boot-chain",
        codes: ["BM3701", "BM3702", "BM3703", "BM3704", "BM3709", "BM4403", "BM4404"],
      }),
      signing: signing.optional().meta({ description: "Own-key chain: the signing key and certificate" }),
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.chain === "own-key" && !v.signing)
        ctx.addIssue({
          code: "custom",
          path: ["signing"],
          message: "the own-key chain needs signing: { key, certificate }",
          params: { bm: "BM3709" },
        });
      if (v.chain !== "own-key" && v.signing)
        ctx.addIssue({
          code: "custom",
          path: ["signing"],
          message: `signing is read only with chain: own-key (chain is ${v.chain})`,
          params: { bm: "BM3709" },
        });
    })
    .optional()
    .meta({ description: "UEFI Secure Boot: the boot chain the media carry (docs/secure-boot.md)" }),
);
