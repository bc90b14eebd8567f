/** Codes of SBOMs, provenance, signed statements and `bootmedia verify` (BM60xx). */
import { defineCodes } from "../../base/errors.ts";

export const ATTEST_CODES = defineCodes("attestation", {
  BM6001: {
    title: "attestation key unusable",
    hint: "Give the signing key by reference, `--attest-key file:PATH` or `--attest-key env:NAME` (spec `attestation.key`), holding an unencrypted PEM private key of type Ed25519 or ECDSA P-256 (`openssl genpkey -algorithm ed25519 -out attest.key`). Check it with `openssl pkey -in KEY -noout`.",
  },
  BM6002: {
    title: "verification key unusable",
    hint: "`--key` names a PEM public key (Ed25519 or ECDSA P-256), e.g. made with `openssl pkey -in attest.key -pubout -out attest.pub`.",
  },
  BM6003: {
    title: "medium unreadable",
    hint: "verify reads the whole medium (a file, or a folder written by the directory target) to hash it; check the path and its permissions.",
  },
  BM6004: {
    title: "statement or SBOM file unreadable or not JSON",
    hint: "The file is missing, cut short or not JSON: nothing in it is trusted. Take the file the build (`<output>.cdx.json`, `<output>.intoto.json`) or the testbed wrote, again.",
  },
  BM6005: {
    title: "statement or SBOM file too large or too deeply nested",
    hint: "bootmedia reads these files with limits (size and nesting depth, docs/sbom.md) so a hostile file cannot exhaust memory or stack; a file over them is not one bootmedia wrote.",
  },
  BM6006: {
    title: "not the document expected",
    hint: "A provenance or testbed file must be a DSSE envelope (or, unsigned, an in-toto Statement v1) with the predicate bootmedia writes; an SBOM a CycloneDX JSON document. Check which file was given to which flag.",
  },
  BM6007: {
    title: "signature does not verify",
    hint: "The statement was not signed by the key given with `--key`, or was changed after signing: nothing in it is trusted. Check that `--key` is the public half of the key the build or testbed signed with (`--attest-key`).",
  },
  BM6008: {
    title: "statement is not about this medium",
    hint: "Its subject's sha256 differs from the medium's: the medium changed since it was built or tested (one byte is enough), or the statement is another medium's. Rebuild or copy the medium again, or give the statements that belong to it.",
  },
  BM6009: {
    title: "statement not signed",
    hint: "verify with `--key` accepts only signed statements (a DSSE envelope): build or run the testbed with `--attest-key` to sign them.",
  },
  BM6010: {
    title: "a required profile did not pass",
    hint: "The testbed statement has no passing case for a profile given with `--require`: run the testbed on that profile (`bootmedia testbed MEDIA --profiles P --attest-key …`) and look at its report for why it failed.",
  },
  BM6011: {
    title: "nothing to verify",
    hint: "Give the statements with `--sbom`, `--provenance` and `--attestation`, or keep the build's `<media>.cdx.json` and `<media>.intoto.json` beside the medium.",
  },
  BM6012: {
    title: "SBOM or provenance not written",
    hint: "The medium is in place but its SBOM or provenance could not be written beside it (disk full, permissions); free space or fix the folder's permissions and build again.",
  },
});
