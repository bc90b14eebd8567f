/**
 * What a build is made of. Before building: the suites' InRelease files (signed by Debian), of
 * which the cache is keyed by the hashes of the arch's package indexes they list — a new package
 * version changes those, Debian's routine re-signing (a new Date, Valid-Until) does not. After building:
 * every installed package with the sha256 of the .deb apt verified, for the manifest's
 * `build` section (an SBOM reads it).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { sha256File } from "../../core/content/manifest.ts";
import type { InstalledPackage } from "./bootstrap.ts";
import "./codes.ts";

interface BuildDeb extends InstalledPackage {
  sha256: string;
}

/** `deb URI SUITE COMPONENTS` → the suite's InRelease URL. */
export function inReleaseUrl(source: string): string {
  const [, uri, suite] = source.split(/\s+/);
  return `${uri!.replace(/\/$/, "")}/dists/${suite}/InRelease`;
}

interface SuiteState {
  url: string;
  date: string;
  sha256: string;
  /** sha256 over the InRelease's SHA256 lines of the arch's (and `all`'s) Packages indexes. */
  packagesSha256: string;
}

/**
 * The part of an InRelease that says which packages an arch gets: its SHA256 lines for
 * `<component>/binary-<arch>/Packages*` and `binary-all`, hashed (sorted, so order does not count).
 */
export function packageIndexesKey(inRelease: string, components: readonly string[], debArch: string): string {
  const section = /^SHA256:\n((?: .*\n?)*)/m.exec(inRelease)?.[1] ?? "";
  const wanted = new RegExp(
    `^(?:${components.map((c) => c.replace(/[^a-z0-9-]/g, "")).join("|")})/binary-(?:${debArch}|all)/Packages(?:\\.\\w+)?$`,
  );
  const lines = section
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3 && wanted.test(f[2]!))
    .map((f) => `${f[0]} ${f[2]}`)
    .sort();
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

/** Each source's InRelease: its Date, sha256 and the key of the arch's package indexes. */
export async function readSuiteStates(sources: readonly string[], debArch: string): Promise<SuiteState[]> {
  const states: SuiteState[] = [];
  for (const source of sources) {
    const url = inReleaseUrl(source);
    let text: string;
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      text = await r.text();
    } catch (e) {
      throw new BootmediaError("BM2601", `cannot read ${url}: ${(e as Error).message}`, { where: url });
    }
    states.push({
      url,
      date: /^Date: (.+)$/m.exec(text)?.[1]?.trim() ?? "",
      sha256: createHash("sha256").update(text).digest("hex"),
      packagesSha256: packageIndexesKey(text, source.split(/\s+/).slice(3), debArch),
    });
  }
  return states;
}

/** The newest suite date as seconds since 1970: the default SOURCE_DATE_EPOCH of a build. */
export function newestSuiteEpoch(states: readonly SuiteState[]): number {
  return Math.max(...states.map((s) => Math.floor(Date.parse(s.date) / 1000)).filter(Number.isFinite));
}

/** apt's file name of a package (an epoch's ":" is written %3a). */
export function debFileName(p: InstalledPackage): string {
  return `${p.name}_${p.version.replace(":", "%3a")}_${p.arch}.deb`;
}

/** Every installed package with the sha256 of its .deb in the cache (apt checked it against the index). */
export async function recordDebs(installed: readonly InstalledPackage[], debCache: string): Promise<BuildDeb[]> {
  const out: BuildDeb[] = [];
  for (const p of installed) {
    const file = join(debCache, debFileName(p));
    if (!existsSync(file))
      throw new BootmediaError("BM2603", `${debFileName(p)} is not in ${debCache}`, { where: file });
    out.push({ ...p, sha256: await sha256File(file) });
  }
  return out;
}
