/**
 * `bootmedia verify`: whether the statements given are about this medium and signed by the
 * key given, and whether the testbed passed the profiles required. The medium is hashed
 * first (core/attest/medium-digest.ts); then each file is read with limits and checked for
 * shape (nothing of it trusted yet), its DSSE signature checked with `--key` over the PAE
 * bytes, and only then its subject compared with the medium's sha256. The SBOM is not signed
 * itself: its root component must name the medium's sha256, and when the provenance is given
 * its sha256 must be the one the signed provenance lists among its byproducts. The first
 * failure ends the check with its code (exit 1).
 */
import { existsSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { BootmediaError } from "../../base/errors.ts";
import { envelopeVerifies, loadVerifyKey } from "../../core/attest/dsse.ts";
import { mediumSha256 } from "../../core/attest/medium-digest.ts";
import {
  readAttestation,
  SLSA_PROVENANCE_TYPE,
  TESTBED_PREDICATE_TYPE,
  type ReadAttestation,
} from "../../core/attest/statement.ts";
import "../../core/attest/codes.ts";
import { loadSbomReader } from "../../plugins/sbom/index.ts";

interface VerifyInput {
  media: string;
  sbom?: string;
  provenance?: string;
  attestation?: string;
  /** PEM public key file. */
  key: string;
  /** Testbed profiles that must have passed (`x64-uefi`, `x64-bios`, …). */
  require?: readonly string[];
}

interface VerifyReport {
  medium: { path: string; sha256: string };
  checked: Array<{ kind: "sbom" | "provenance" | "testbed"; file: string; detail: string }>;
}

interface TestbedCase {
  profile: string;
  nic?: string;
  verdict: string;
}

export async function verifyMedia(input: VerifyInput): Promise<VerifyReport> {
  const key = await loadVerifyKey(input.key);
  const reader = await loadSbomReader();
  const beside = (suffix: string) => (existsSync(input.media + suffix) ? input.media + suffix : undefined);
  const sbom = input.sbom ?? beside(reader.SBOM_SUFFIX);
  const provenance = input.provenance ?? beside(reader.PROVENANCE_SUFFIX);
  const attestation = input.attestation;
  if (!sbom && !provenance && !attestation)
    throw new BootmediaError(
      "BM6011",
      `no SBOM, provenance or testbed statement given for ${input.media}, nor beside it`,
      {
        where: input.media,
      },
    );
  if ((input.require ?? []).length > 0 && !attestation)
    throw new BootmediaError("BM6011", "--require names profiles, but no testbed statement was given (--attestation)", {
      where: "--require",
    });
  const sha256 = await mediumSha256(input.media);
  const report: VerifyReport = { medium: { path: input.media, sha256 }, checked: [] };

  let sbomByproduct: string | undefined;
  if (provenance) {
    const st = await signedAbout(provenance, "provenance", key, sha256, SLSA_PROVENANCE_TYPE);
    const byproducts = (st.statement.predicate as { runDetails?: { byproducts?: unknown } }).runDetails?.byproducts;
    if (Array.isArray(byproducts))
      sbomByproduct = byproducts
        .map((b) => (b as { digest?: { sha256?: unknown } })?.digest?.sha256)
        .find((h): h is string => typeof h === "string");
    report.checked.push({ kind: "provenance", file: provenance, detail: "signature verifies; subject is this medium" });
  }
  if (sbom) {
    const summary = await reader.readSbom(sbom);
    if (summary.medium.sha256 !== sha256)
      throw new BootmediaError(
        "BM6008",
        `the SBOM ${sbom} describes a medium with sha256 ${summary.medium.sha256 ?? "(none)"}; ${input.media} has ${sha256}`,
        { where: sbom },
      );
    if (sbomByproduct !== undefined) {
      const own = summary.fileSha256;
      if (own !== sbomByproduct)
        throw new BootmediaError(
          "BM6007",
          `the SBOM ${sbom} (sha256 ${own}) is not the one the signed provenance lists (${sbomByproduct}): it was changed or belongs to another build`,
          { where: sbom },
        );
    }
    report.checked.push({
      kind: "sbom",
      file: sbom,
      detail: `root component is this medium${sbomByproduct ? "; the signed provenance vouches for its bytes" : " (the SBOM is not signed: give --provenance to vouch for it)"}; ${summary.entries.length} entries`,
    });
  }
  if (attestation) {
    const st = await signedAbout(attestation, "testbed statement", key, sha256, TESTBED_PREDICATE_TYPE);
    const cases = casesOf(st, attestation);
    for (const profile of input.require ?? []) {
      const passed = cases.some((c) => c.profile === profile && c.verdict === "pass");
      if (!passed) {
        const seen = cases.filter((c) => c.profile === profile).map((c) => `${c.nic ?? "?"}: ${c.verdict}`);
        throw new BootmediaError(
          "BM6010",
          `profile ${profile} did not pass on this medium (${seen.length > 0 ? seen.join(", ") : "not run"})`,
          { where: attestation },
        );
      }
    }
    report.checked.push({
      kind: "testbed",
      file: attestation,
      detail: `signature verifies; subject is this medium; ${cases.map((c) => `${c.profile}${c.nic ? `:${c.nic}` : ""} ${c.verdict}`).join(", ")}`,
    });
  }
  return report;
}

/** Reads a statement, then checks signature, predicate type and subject, in that order. */
async function signedAbout(
  file: string,
  what: string,
  key: KeyObject,
  sha256: string,
  predicateType: string,
): Promise<ReadAttestation> {
  const st = await readAttestation(file, what);
  if (!st.envelope)
    throw new BootmediaError(
      "BM6009",
      `the ${what} ${file} is not signed (an in-toto statement, not a DSSE envelope)`,
      {
        where: file,
      },
    );
  if (!envelopeVerifies(st.envelope, key))
    throw new BootmediaError("BM6007", `the ${what} ${file}: no signature verifies with the key given`, {
      where: file,
    });
  if (st.statement.predicateType !== predicateType)
    throw new BootmediaError(
      "BM6006",
      `the ${what} ${file} is a ${st.statement.predicateType} statement; ${predicateType} expected`,
      { where: file },
    );
  const subjects = st.statement.subject.map((s) => s.digest.sha256);
  if (!subjects.includes(sha256))
    throw new BootmediaError(
      "BM6008",
      `the ${what} ${file} is about ${st.statement.subject.map((s) => `${s.name} (sha256 ${s.digest.sha256})`).join(", ")}; the medium's sha256 is ${sha256}`,
      { where: file },
    );
  return st;
}

function casesOf(st: ReadAttestation, file: string): TestbedCase[] {
  const cases = (st.statement.predicate as { cases?: unknown }).cases;
  const ok =
    Array.isArray(cases) &&
    cases.every(
      (c) =>
        c !== null &&
        typeof c === "object" &&
        typeof (c as TestbedCase).profile === "string" &&
        typeof (c as TestbedCase).verdict === "string",
    );
  if (!ok) throw new BootmediaError("BM6006", `the testbed statement ${file} has no list of cases`, { where: file });
  return cases as TestbedCase[];
}

export function formatVerify(r: VerifyReport): string {
  return [
    `medium ${r.medium.path}: sha256 ${r.medium.sha256}`,
    ...r.checked.map((c) => `  ok  ${c.kind} ${c.file}: ${c.detail}`),
    "verified",
  ].join("\n");
}
