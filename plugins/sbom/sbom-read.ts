/**
 * An SBOM read back, trusting nothing: size and depth limits (core/attest/json-input.ts),
 * then only the fields bootmedia reads are taken, each checked — the root component's sha256,
 * and each component's name, version, purl and bootmedia properties. What `inspect` prints,
 * what `diff` compares and what `verify` checks the medium's sha256 against.
 */
import { existsSync } from "node:fs";
import { z } from "zod";
import { BootmediaError } from "../../base/errors.ts";
import { JSON_INPUT_LIMITS, readJsonFileHashed } from "../../core/attest/json-input.ts";

export const SBOM_SUFFIX = ".cdx.json";
export const PROVENANCE_SUFFIX = ".intoto.json";

/** Where a medium's SBOM is written: `<media>.cdx.json` (a folder's without its trailing "/"). */
export const sbomFileFor = (media: string) => media.replace(/\/+$/, "") + SBOM_SUFFIX;

const text = z.string().max(4096);
const hashes = z
  .array(z.object({ alg: text, content: text }))
  .max(16)
  .optional();
const properties = z
  .array(z.object({ name: text, value: text.optional() }))
  .max(4096)
  .optional();
const component = z.object({
  type: text,
  name: text,
  version: text.optional(),
  purl: text.optional(),
  hashes,
  properties,
});
const sbomSchema = z.object({
  bomFormat: z.literal("CycloneDX"),
  specVersion: text,
  metadata: z.object({
    component: component,
    tools: z.object({ components: z.array(component).max(64).optional() }).optional(),
  }),
  components: z.array(component).max(1_000_000).optional(),
});

export interface SbomEntry {
  /** What identifies it across versions: `deb:<name>:<arch>`, `package:<id>`, `grub`, `certificate:<sha256>`. */
  key: string;
  kind: "package" | "deb" | "grub" | "certificate";
  name: string;
  version?: string;
  /** The .deb's sha256, or the certificate's. */
  sha256?: string;
}

export interface SbomSummary {
  /** The sha256 of the file's bytes as read (what a provenance lists among its byproducts). */
  fileSha256: string;
  specVersion: string;
  medium: { name: string; sha256?: string };
  bootmediaVersion?: string;
  entries: SbomEntry[];
}

const prop = (c: z.infer<typeof component>, name: string) => c.properties?.find((p) => p.name === name)?.value;
const sha256Of = (c: z.infer<typeof component>) => c.hashes?.find((h) => h.alg === "SHA-256")?.content;

function entryOf(c: z.infer<typeof component>): SbomEntry | undefined {
  const sha256 = sha256Of(c);
  const base = { name: c.name, ...(c.version ? { version: c.version } : {}), ...(sha256 ? { sha256 } : {}) };
  if (c.purl?.startsWith("pkg:deb/"))
    return { key: `deb:${c.name}:${prop(c, "bootmedia:deb:arch") ?? ""}`, kind: "deb", ...base };
  const id = prop(c, "bootmedia:package:id");
  if (id) return { key: `package:${id}`, kind: "package", ...base };
  if (c.type === "cryptographic-asset" && sha256) return { key: `certificate:${sha256}`, kind: "certificate", ...base };
  if (c.name.startsWith("GRUB boot files")) return { key: "grub", kind: "grub", ...base };
  return undefined;
}

export async function readSbom(path: string): Promise<SbomSummary> {
  const { value: json, sha256: fileSha256 } = await readJsonFileHashed(path, JSON_INPUT_LIMITS.sbomBytes, "SBOM");
  const r = sbomSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new BootmediaError(
      "BM6006",
      `SBOM ${path} is not a CycloneDX document bootmedia reads (${i ? `${i.path.join(".") || "(top)"}: ${i.message}` : "unexpected shape"})`,
      { where: path },
    );
  }
  const bom = r.data;
  const tool = bom.metadata.tools?.components?.find((c) => c.name === "bootmedia");
  const entries = (bom.components ?? []).map(entryOf).filter((e): e is SbomEntry => e !== undefined);
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const mediumSha = sha256Of(bom.metadata.component);
  return {
    fileSha256,
    specVersion: bom.specVersion,
    medium: { name: bom.metadata.component.name, ...(mediumSha ? { sha256: mediumSha } : {}) },
    ...(tool?.version ? { bootmediaVersion: tool.version } : {}),
    entries,
  };
}

/** inspect's section: packages and versions, then the Debian packages, GRUB and the certificates. */
export function formatSbomSummary(s: SbomSummary, file: string): string {
  const lines = [`SBOM (${file}, CycloneDX ${s.specVersion}; medium sha256 ${s.medium.sha256 ?? "?"})`];
  const of = (kind: SbomEntry["kind"]) => s.entries.filter((e) => e.kind === kind);
  for (const e of of("package")) lines.push(`  package ${e.key.slice(8)}  ${e.name}  ${e.version ?? ""}`.trimEnd());
  for (const e of of("grub")) lines.push(`  ${e.name}  ${e.version ?? ""}`.trimEnd());
  const debs = of("deb");
  if (debs.length > 0) lines.push(`  Debian packages (${debs.length}):`);
  for (const e of debs) lines.push(`    ${e.key.slice(4)}  ${e.version ?? ""}`.trimEnd());
  for (const e of of("certificate")) lines.push(`  certificate ${e.name}  sha256 ${e.sha256?.slice(0, 16)}…`);
  if (s.bootmediaVersion) lines.push(`  built by bootmedia ${s.bootmediaVersion}`);
  return lines.join("\n");
}

export interface VersionChange {
  key: string;
  name: string;
  from?: string;
  to?: string;
}

/** What changed between two SBOMs: versions changed, entries added or removed (certificates by presence). */
export function diffSboms(a: SbomSummary, b: SbomSummary): VersionChange[] {
  const left = new Map(a.entries.map((e) => [e.key, e]));
  const right = new Map(b.entries.map((e) => [e.key, e]));
  const out: VersionChange[] = [];
  for (const key of [...new Set([...left.keys(), ...right.keys()])].sort()) {
    const x = left.get(key);
    const y = right.get(key);
    if (x && y && x.version === y.version) continue;
    out.push({
      key,
      name: (y ?? x)!.name,
      ...(x ? { from: x.version ?? "(present)" } : {}),
      ...(y ? { to: y.version ?? "(present)" } : {}),
    });
  }
  return out;
}

/** The SBOM beside a medium (`<media>.cdx.json`), read with limits; undefined when there is none. */
export async function sbomBeside(media: string): Promise<SbomSummary | undefined> {
  const file = sbomFileFor(media);
  return existsSync(file) ? readSbom(file) : undefined;
}
