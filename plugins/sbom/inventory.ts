/**
 * What a medium is made of, gathered once at the end of a build from what the build itself
 * used: the content packages (their manifests' files, and the Debian packages their builders
 * recorded in `build.debs`), bootmedia's GRUB build (the packages dpkg says own grub-mkimage
 * and GRUB's platform files), files taken straight from installed Debian packages (shim and
 * Debian's signed GRUB: dpkg names the owner), and the certificates whose Authenticode
 * signatures the medium's EFI binaries and kernels carry (with shim's vendor certificate).
 * cyclonedx.ts and provenance.ts render it; nothing here is guessed from names.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { sep } from "node:path";
import { z } from "zod";
import { sha256File } from "../../core/content/manifest.ts";
import { hostDebsOf, type HostDeb } from "../../core/host-debs.ts";
import type { ContentPackage, LayoutFile, MediaLayout, ResolvedMedia } from "../../core/types.ts";
import {
  certificateSubject,
  looksLikePe,
  readAuthenticode,
  readPe,
  readVendorCertificate,
  signedDataOf,
} from "../../formats/pe/index.ts";
import { loadBootLoaderBuild } from "../boot-loader/index.ts";

export interface Deb {
  name: string;
  version: string;
  arch: string;
  /** The .deb's sha256 (recorded by the builder, or apt's index for an installed package). */
  sha256?: string;
}

export interface MediaFile {
  path: string;
  /** Absent when the writer changes the file's bytes on the medium (the ISO's El Torito image). */
  sha256?: string;
}

export interface InventoryPackage {
  id: string;
  type: ContentPackage["type"];
  name: string;
  version: string;
  files: Array<{ path: string; size: number; sha256: string }>;
  /** What its builder recorded it was made from (`build.debs`); empty when it recorded nothing. */
  debs: Deb[];
}

export interface Certificate {
  subject: string;
  issuer?: string;
  /** sha256 of the certificate's DER. */
  sha256: string;
  /** Media paths of the binaries it signs, or (shim's vendor certificate) that carry it. */
  signs: string[];
  /** "signer" (an Authenticode signer) or "shim-vendor" (the key shim trusts besides db and MOK). */
  role: "signer" | "shim-vendor";
}

export interface Inventory {
  packages: InventoryPackage[];
  /** bootmedia's GRUB build on the medium: its files and the packages its tools came from. */
  grub?: { version?: string; files: MediaFile[]; debs: Deb[] };
  /** Files copied from installed Debian packages (shim, Debian's signed GRUB), by package. */
  hostDebs: Array<Deb & { files: MediaFile[] }>;
  certificates: Certificate[];
  /** What could not be attributed, said in the log and the SBOM's properties. */
  notes: string[];
}

const recordedDebs = z.array(
  z.object({
    name: z.string().min(1).max(200),
    version: z.string().min(1).max(200),
    arch: z.string().min(1).max(40),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
);

/** A package's `build.debs`, when its builder recorded them in the shape bootmedia writes. */
function debsOf(pkg: ContentPackage): Deb[] {
  const build = (pkg as ContentPackage & { build?: { debs?: unknown } }).build;
  const r = recordedDebs.safeParse(build?.debs);
  return r.success ? r.data : [];
}

const files = (layout: MediaLayout): LayoutFile[] =>
  layout.volumes.flatMap((v) => v.entries.filter((e): e is LayoutFile => e.type === "file"));

const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export async function gatherInventory(
  media: ResolvedMedia,
  layout: MediaLayout,
  contentCacheDir: string,
): Promise<Inventory> {
  const notes: string[] = [];
  const packages = media.packages
    .map((p) => ({
      id: p.id,
      type: p.type,
      name: p.name,
      version: p.version,
      files: p.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })).sort(byPath),
      debs: debsOf(p),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const p of packages)
    if (p.type === "boot-image" && p.debs.length === 0)
      notes.push(
        `boot image ${p.id} records no Debian packages (built by another tool, or before bootmedia recorded them)`,
      );

  // The El Torito image on an ISO is patched by the writer (boot-info table): its source's hash is not the medium's.
  const patched = new Set(
    media.target.type === "iso"
      ? layout.volumes.flatMap((v) => v.boot.filter((b) => b.role === "bios-eltorito").map((b) => b.path))
      : [],
  );
  const hashOf = async (e: LayoutFile): Promise<string | undefined> =>
    patched.has(e.path) || e.source.kind !== "file" ? undefined : sha256File(e.source.path);

  const { bootLoaderCacheDir, bootLoaderToolFiles } = await loadBootLoaderBuild();
  const grubDir = bootLoaderCacheDir(contentCacheDir) + sep;
  const hostFiles = files(layout).filter(
    (e): e is LayoutFile & { source: { kind: "file"; path: string } } => e.source.kind === "file",
  );
  const grubFiles = hostFiles.filter((e) => e.source.path.startsWith(grubDir));
  const others = hostFiles.filter((e) => !e.source.path.startsWith(grubDir));
  const tools = grubFiles.length > 0 ? bootLoaderToolFiles() : [];
  const { owners, installed } = await hostDebsOf([...tools, ...others.map((e) => e.source.path)], contentCacheDir);
  const debOf = (owner: string | undefined): HostDeb | undefined =>
    owner === undefined ? undefined : installed.find((d) => d.name === owner || `${d.name}:${d.arch}` === owner);

  let grub: Inventory["grub"];
  if (grubFiles.length > 0) {
    const debs = [
      ...new Map(
        tools
          .map((t) => debOf(owners.get(t)))
          .filter((d) => d !== undefined)
          .map((d) => [d.name, d]),
      ).values(),
    ];
    if (debs.length === 0)
      notes.push("GRUB's boot files: dpkg owns none of GRUB's tools here (no dpkg, or GRUB not from Debian)");
    const version = debs.find((d) => d.name === "grub-common")?.version;
    grub = {
      ...(version ? { version } : {}),
      files: (await Promise.all(grubFiles.map(async (e) => ({ path: e.path, sha256: await hashOf(e) })))).sort(byPath),
      debs,
    };
  }
  const hostDebs = new Map<string, Deb & { files: MediaFile[] }>();
  for (const e of others) {
    const deb = debOf(owners.get(e.source.path));
    if (!deb) continue; // the user's own files (prestart folders…) and bootmedia's generated ones
    const key = `${deb.name}:${deb.arch}`;
    const entry = hostDebs.get(key) ?? { ...deb, files: [] };
    entry.files.push({ path: e.path, ...(await hashOf(e).then((h) => (h ? { sha256: h } : {}))) });
    hostDebs.set(key, entry);
  }
  for (const d of hostDebs.values()) d.files.sort(byPath);

  return {
    packages,
    ...(grub ? { grub } : {}),
    hostDebs: [...hostDebs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    certificates: await certificatesOf(media, layout),
    notes,
  };
}

/** The EFI binaries and kernels on the medium: their signers' certificates, and shim's vendor certificate. */
async function certificatesOf(media: ResolvedMedia, layout: MediaLayout): Promise<Certificate[]> {
  const kernels = new Set(media.bootImages.map((b) => b.bootImage.kernel));
  const itemPath = new Map(media.items.map((i) => [i.sha256, i.localPath]));
  const certs = new Map<string, Certificate>();
  const add = (c: Omit<Certificate, "signs">, path: string) => {
    const known = certs.get(`${c.role}:${c.sha256}`) ?? { ...c, signs: [] };
    if (!known.signs.includes(path)) known.signs.push(path);
    certs.set(`${c.role}:${c.sha256}`, known);
  };
  for (const e of files(layout)) {
    if (!/\.efi$/i.test(e.path) && !kernels.has(e.path)) continue;
    const s = e.source;
    const local = s.kind === "file" ? s.path : s.kind === "content" ? itemPath.get(s.sha256) : undefined;
    const buf = s.kind === "bytes" ? Buffer.from(s.data) : local ? await readFile(local) : undefined;
    if (!buf || !looksLikePe(buf)) continue;
    let pe;
    try {
      pe = readPe(buf, e.path);
    } catch {
      continue; // a damaged binary is inspect's to report (BM4502); it names no signer here
    }
    for (const blob of signedDataOf(pe))
      for (const signer of readAuthenticode(blob) ?? [])
        if (signer.certificateSha256)
          add(
            { subject: signer.subject, issuer: signer.issuer, sha256: signer.certificateSha256, role: "signer" },
            e.path,
          );
    const vendor = pe.vendorCert ? readVendorCertificate(pe.vendorCert) : null;
    if (vendor)
      add(
        {
          subject: certificateSubject(vendor) ?? "(unreadable certificate)",
          sha256: createHash("sha256").update(vendor).digest("hex"),
          role: "shim-vendor",
        },
        e.path,
      );
  }
  for (const c of certs.values()) c.signs.sort();
  return [...certs.values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
}
