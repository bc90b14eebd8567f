/**
 * The build's provenance: an in-toto Statement v1 whose subject is the output (its name and
 * sha256) and whose predicate is SLSA Provenance v1 — buildDefinition: bootmedia's build type,
 * the spec (its file's sha256) and the target as external parameters, SOURCE_DATE_EPOCH as an
 * internal one, and every resolved input as a resource descriptor (each content file with its
 * sha256, each Debian package by purl with its .deb's sha256); runDetails.builder: bootmedia
 * and its version, with the SBOM (name and sha256) among its byproducts. No wall-clock time: two builds of the same inputs give the same statement.
 */
import { BUILD_TYPE, SLSA_PROVENANCE_TYPE, statement, type Statement } from "../../core/attest/statement.ts";
import { debPurl } from "./cyclonedx.ts";
import type { Deb, Inventory } from "./inventory.ts";

/** CycloneDX's JSON media type (IANA), naming the SBOM among the byproducts. */
const SBOM_MEDIA_TYPE = "application/vnd.cyclonedx+json";

interface ProvenanceInput {
  subject: { name: string; sha256: string };
  spec: { name: string; sha256: string };
  target: { type: string; output: string };
  mediaId: string;
  /** The SBOM written beside the output: a byproduct, so the signed statement vouches for it too. */
  sbom: { name: string; sha256: string };
  bootmediaVersion: string;
  sourceDateEpoch: number;
  inventory: Inventory;
}

interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: { sha256: string };
  annotations?: Record<string, string>;
}

export function provenanceStatement(input: ProvenanceInput): Statement<unknown> {
  const inv = input.inventory;
  const deps: ResourceDescriptor[] = [];
  const debs = new Map<string, Deb>();
  for (const p of inv.packages) {
    for (const f of p.files)
      deps.push({
        name: `content:${p.id}/${f.path}`,
        digest: { sha256: f.sha256 },
        annotations: { package: p.id, packageVersion: p.version, packageType: p.type },
      });
    for (const d of p.debs) debs.set(debPurl(d), d);
  }
  for (const d of [...(inv.grub?.debs ?? []), ...inv.hostDebs]) debs.set(debPurl(d), d);
  for (const [purl, d] of [...debs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    deps.push({ uri: purl, ...(d.sha256 ? { digest: { sha256: d.sha256 } } : {}) });
  return statement({ name: input.subject.name, digest: { sha256: input.subject.sha256 } }, SLSA_PROVENANCE_TYPE, {
    buildDefinition: {
      buildType: BUILD_TYPE,
      externalParameters: {
        spec: { name: input.spec.name, digest: { sha256: input.spec.sha256 } },
        mediaId: input.mediaId,
        target: input.target,
      },
      internalParameters: { sourceDateEpoch: input.sourceDateEpoch },
      resolvedDependencies: deps,
    },
    runDetails: {
      builder: {
        id: `pkg:npm/bootmedia@${input.bootmediaVersion}`,
        version: { bootmedia: input.bootmediaVersion },
      },
      byproducts: [{ name: input.sbom.name, digest: { sha256: input.sbom.sha256 }, mediaType: SBOM_MEDIA_TYPE }],
    },
  });
}
