/**
 * Reads the spec's `contentLibrary` as distribution points: one URL, an ordered list of
 * URLs (fallback in order), or the object form with auth and TLS settings. A folder or
 * `embedded` is the local library's job (undefined here).
 */
import type { SecretRef } from "../../core/spec-schema.ts";
import type { ContentLibrarySpec } from "./spec.ts";
import { dpError } from "./errors.ts";
import "./codes.ts";

export type DpAuth = { bearer: SecretRef } | { basic: { user: string; password: SecretRef } };

export interface DistributionPoints {
  /** Base URLs of the content library, in the order they are tried; each ends with "/". */
  urls: string[];
  auth?: DpAuth;
  clientCert?: { cert: string; key: string };
  caFile?: string;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Whether the library is remote at all (cheap, never throws: for choosing plugins). */
export function isRemoteLibrary(library: ContentLibrarySpec): boolean {
  return typeof library !== "string" || isUrl(library);
}

export function distributionPointsOf(library: ContentLibrarySpec): DistributionPoints | undefined {
  if (typeof library === "string") return isUrl(library) ? { urls: [baseUrl(library)] } : undefined;
  const form = Array.isArray(library) ? { urls: library } : library;
  const urls = typeof form.urls === "string" ? [form.urls] : form.urls;
  const notUrl = urls.find((u) => !isUrl(u));
  if (notUrl !== undefined) {
    throw dpError(
      "BM2105",
      `contentLibrary: "${notUrl}" is not an http(s) URL; a list or the object form holds distribution point URLs only`,
      { where: "contentLibrary" },
    );
  }
  return { ...form, urls: urls.map(baseUrl) };
}

/** Normalises a DP URL to a base ending in "/" and refuses credentials in it (they would reach logs). */
function baseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw dpError("BM2105", `contentLibrary: "${raw}" is not a valid URL`, { where: "contentLibrary" });
  }
  if (url.username || url.password) {
    throw dpError(
      "BM2105",
      `contentLibrary: ${url.host}: credentials in a URL would be logged; use contentLibrary.auth`,
      { where: "contentLibrary" },
    );
  }
  if (url.search || url.hash)
    throw dpError("BM2105", `contentLibrary: "${raw}" must not carry a query or fragment`, { where: "contentLibrary" });
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url.href;
}

/** URL of a package's manifest on a DP: packages/<ID>/package.json (docs/content-library.md). */
export function manifestUrl(base: string, packageId: string): string {
  return new URL(["packages", packageId, "package.json"].map(encodeURIComponent).join("/"), base).href;
}

/** URL of a content file on a DP: packages/<ID>/files/<media path>, each segment escaped. */
export function contentUrl(base: string, packageId: string, mediaPath: string): string {
  return new URL(["packages", packageId, "files", ...mediaPath.split("/")].map(encodeURIComponent).join("/"), base)
    .href;
}
