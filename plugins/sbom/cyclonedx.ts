/**
 * The inventory as a CycloneDX 1.6 JSON SBOM, made with the CycloneDX project's own library
 * (models, normalizer, serializer; lists sorted so equal inputs give equal bytes). The
 * medium is the root component (metadata.component, its sha256); each content package a
 * component with its files nested (each with its sha256); every Debian package a component
 * with its `pkg:deb/debian/…` purl and the .deb's SHA-256; bootmedia's GRUB build and the
 * certificates of the Secure Boot chain (type cryptographic-asset) beside them; bootmedia the
 * tool that made it (metadata.tools, `pkg:npm/bootmedia@…`). `dependencies` ties them:
 * medium → packages, GRUB, Debian packages whose files it carries; package → its Debian packages.
 */
import { Enums, Models, Serialize, Spec } from "@cyclonedx/cyclonedx-library";
import { PackageURL } from "packageurl-js";
import type { Deb, Inventory, InventoryPackage, MediaFile } from "./inventory.ts";

interface SbomInput {
  medium: { name: string; sha256: string; targetType: string };
  /** The spec's `name` (the media id). */
  mediaId: string;
  bootmediaVersion: string;
  sourceDateEpoch: number;
  inventory: Inventory;
}

/** Property names bootmedia uses (CycloneDX's property taxonomy: a namespace of one's own). */
const PROP = {
  packageId: "bootmedia:package:id",
  packageType: "bootmedia:package:type",
  debArch: "bootmedia:deb:arch",
  certRole: "bootmedia:certificate:role",
  certSubject: "bootmedia:certificate:subject",
  certIssuer: "bootmedia:certificate:issuer",
  certSigns: "bootmedia:certificate:signs",
  target: "bootmedia:target",
  mediaId: "bootmedia:media-id",
  note: "bootmedia:note",
} as const;

const sha256 = (hex: string) => new Models.HashDictionary([[Enums.HashAlgorithm["SHA-256"], hex]]);
const props = (entries: Array<[string, string]>) =>
  new Models.PropertyRepository(entries.map(([n, v]) => new Models.Property(n, v)));

export const debPurl = (d: Deb) => new PackageURL("deb", "debian", d.name, d.version, { arch: d.arch }).toString();

function fileComponent(f: MediaFile, owner: string): Models.Component {
  return new Models.Component(Enums.ComponentType.File, f.path, {
    bomRef: `${owner}/file:${f.path}`,
    ...(f.sha256 ? { hashes: sha256(f.sha256) } : {}),
  });
}

function debComponent(d: Deb, files: MediaFile[] = []): Models.Component {
  const purl = debPurl(d);
  const c = new Models.Component(Enums.ComponentType.Library, d.name, {
    bomRef: purl,
    version: d.version,
    purl,
    ...(d.sha256 ? { hashes: sha256(d.sha256) } : {}),
    properties: props([[PROP.debArch, d.arch]]),
  });
  for (const f of files) c.components.add(fileComponent(f, purl));
  return c;
}

const PACKAGE_COMPONENT_TYPE: Record<InventoryPackage["type"], Enums.ComponentType> = {
  "boot-image": Enums.ComponentType.OperatingSystem,
  "os-image": Enums.ComponentType.OperatingSystem,
  prestart: Enums.ComponentType.Application,
  "task-sequence": Enums.ComponentType.Data,
};

/** The SBOM's JSON text. */
export function renderSbom(input: SbomInput): string {
  const { inventory: inv, medium } = input;
  const root = new Models.Component(Enums.ComponentType.File, medium.name, {
    bomRef: `medium:${medium.name}`,
    hashes: sha256(medium.sha256),
    properties: props([
      [PROP.target, medium.targetType],
      [PROP.mediaId, input.mediaId],
    ]),
  });
  const bootmedia = new Models.Component(Enums.ComponentType.Application, "bootmedia", {
    bomRef: "bootmedia",
    version: input.bootmediaVersion,
    purl: new PackageURL("npm", undefined, "bootmedia", input.bootmediaVersion, undefined).toString(),
  });
  const bom = new Models.Bom({
    metadata: new Models.Metadata({
      timestamp: new Date(input.sourceDateEpoch * 1000),
      component: root,
      tools: new Models.Tools({ components: new Models.ComponentRepository([bootmedia]) }),
      properties: props(inv.notes.map((n) => [PROP.note, n])),
    }),
  });
  const debs = new Map<string, Models.Component>();
  const debRef = (d: Deb, files?: MediaFile[]) => {
    const purl = debPurl(d);
    let c = debs.get(purl);
    if (!c) {
      c = debComponent(d, files);
      debs.set(purl, c);
      bom.components.add(c);
    } else for (const f of files ?? []) c.components.add(fileComponent(f, purl));
    return c;
  };

  for (const p of inv.packages) {
    const ref = `package:${p.id}`;
    const c = new Models.Component(PACKAGE_COMPONENT_TYPE[p.type], p.name, {
      bomRef: ref,
      version: p.version,
      properties: props([
        [PROP.packageId, p.id],
        [PROP.packageType, p.type],
      ]),
    });
    for (const f of p.files) c.components.add(fileComponent(f, ref));
    for (const d of p.debs) c.dependencies.add(debRef(d).bomRef);
    bom.components.add(c);
    root.dependencies.add(c.bomRef);
  }
  if (inv.grub) {
    const c = new Models.Component(Enums.ComponentType.Application, "GRUB boot files (bootmedia's build)", {
      bomRef: "grub-build",
      ...(inv.grub.version ? { version: inv.grub.version } : {}),
    });
    for (const f of inv.grub.files) c.components.add(fileComponent(f, "grub-build"));
    for (const d of inv.grub.debs) c.dependencies.add(debRef(d).bomRef);
    bom.components.add(c);
    root.dependencies.add(c.bomRef);
  }
  for (const d of inv.hostDebs) root.dependencies.add(debRef(d, d.files).bomRef);
  for (const cert of inv.certificates) {
    const c = new Models.Component(Enums.ComponentType.CryptographicAsset, cert.subject, {
      bomRef: `certificate:${cert.role}:${cert.sha256}`,
      hashes: sha256(cert.sha256),
      properties: props([
        [PROP.certRole, cert.role],
        [PROP.certSubject, cert.subject],
        ...(cert.issuer ? ([[PROP.certIssuer, cert.issuer]] as Array<[string, string]>) : []),
        ...cert.signs.map((s): [string, string] => [PROP.certSigns, s]),
      ]),
    });
    bom.components.add(c);
    root.dependencies.add(c.bomRef);
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}
