/** The attestation part of the spec: `attestation.key`, the key that signs the build's provenance. */
import { z } from "zod";
import { defineSection, secretRef } from "../../core/spec-schema.ts";

export const ATTESTATION = defineSection(
  "attestation",
  z
    .object({
      key: secretRef(
        "Signs the build's provenance (<output>.intoto.json) as a DSSE envelope: an Ed25519 or ECDSA P-256 PEM private key, by reference",
        "attest-key",
        ["BM6001"],
      ),
    })
    .strict()
    .optional()
    .meta({ description: "Build provenance: the key it is signed with (docs/sbom.md); unsigned without it" }),
);
