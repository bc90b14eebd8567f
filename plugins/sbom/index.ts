/**
 * The SBOM built-in: beside every output, `<output>.cdx.json` (CycloneDX 1.6: what the medium
 * is made of) and `<output>.intoto.json` (in-toto SLSA provenance, signed with
 * `attestation.key`). Also the SBOM reader `inspect`, `diff` and `verify` use.
 */
import { definePlugin } from "../../core/plugin.ts";
import { ATTEST_CODES } from "../../core/attest/codes.ts";
import { ATTESTATION } from "./spec.ts";

const plugin = definePlugin({
  name: "SbomPlugin",
  describe:
    "Writes beside every output its CycloneDX SBOM (<output>.cdx.json) and in-toto provenance (<output>.intoto.json, signed with attestation.key)",
  sections: [ATTESTATION],
  codes: ATTEST_CODES,
  create: async () => new (await import("./sbom-plugin.ts")).SbomPlugin(),
});

export default plugin;

/** Reads an SBOM back (package list, subject hash) for inspect, diff and verify; loaded when asked. */
export const loadSbomReader = () => import("./sbom-read.ts");
