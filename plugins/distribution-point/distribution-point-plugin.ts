/**
 * Content from HTTP(S) distribution points: a content library folder served as static
 * files (docs/content-library.md). Resolve reads package manifests from the first DP that
 * answers; fetch streams each file with resume, retries and fallback across DPs.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { parseManifest } from "../../core/content/manifest.ts";
import { resolveSecret } from "../../core/secrets.ts";
import type { BuildContext } from "../../core/context.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { ContentPackage, ResolvedMedia } from "../../core/types.ts";
import { DpClient, type ClientOptions, type RetryPolicy } from "./http-client.ts";
import { openDownload } from "./download.ts";
import { dpError } from "./errors.ts";
import { contentUrl, distributionPointsOf, manifestUrl, type DistributionPoints } from "./library-ref.ts";
import "../../core/codes.ts";
import "./codes.ts";
import { CONTENT_LIBRARY } from "./spec.ts";

export const PLUGIN_NAME = "DistributionPointPlugin";
const ORIGIN_KIND = "distribution-point";

export interface DistributionPointOptions {
  /** Overrides of the retry policy (tests use short timeouts and backoffs). */
  retry?: Partial<RetryPolicy>;
}

export class DistributionPointPlugin implements Plugin {
  readonly name = PLUGIN_NAME;
  private client?: DpClient;

  constructor(private readonly options: DistributionPointOptions = {}) {}

  apply(build: PluginBuild): void {
    const ctx = build.context;
    build.hooks.resolve.tapPromise(PLUGIN_NAME, async (media) => {
      const dps = distributionPointsOf(CONTENT_LIBRARY.of(media.spec));
      if (!dps) return media;
      this.client = await createClient(dps, ctx, media.specDir, this.options);
      ctx.log.write("resolve", `distribution points, in order: ${dps.urls.join(", ")}`);
      for (const id of [...media.bootImageIds, media.spec.taskSequence]) {
        if (media.packages.some((p) => p.id === id)) continue;
        const { pkg, dp } = await readRemotePackage(this.client, id);
        addPackage(media, pkg, dp);
      }
      return media;
    });
    build.hooks.fetcher.tap(PLUGIN_NAME, (item) => {
      const client = this.client;
      if (item.origin.kind !== ORIGIN_KIND || !client) return undefined;
      return {
        open: async () =>
          openDownload(client, {
            subject: { packageId: item.packageId, file: item.path },
            urlOn: (dp) => contentUrl(dp, item.packageId, item.path),
            size: item.size,
          }),
      };
    });
    build.hooks.done.tapPromise(PLUGIN_NAME, async () => this.client?.close());
    build.hooks.failed.tap(PLUGIN_NAME, () => this.client?.close());
  }
}

/** The package's manifest from the first DP that has it, checked like a local one. */
export async function readRemotePackage(client: DpClient, id: string): Promise<{ pkg: ContentPackage; dp: string }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new BootmediaError("BM2002", `invalid package id "${id}"`);
  const { text, url, dp } = await client.getText((base) => manifestUrl(base, id), {
    packageId: id,
    file: "package.json",
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BootmediaError("BM2003", `package ${id}: ${url} is not JSON: ${(e as Error).message}`, { where: url });
  }
  const pkg = parseManifest(json, `package ${id} (${url})`);
  if (pkg.id !== id)
    throw new BootmediaError("BM2003", `package folder ${id} on ${dp} holds a manifest for "${pkg.id}"`, {
      where: url,
    });
  return { pkg, dp };
}

function addPackage(media: ResolvedMedia, pkg: ContentPackage, dp: string): void {
  media.packages.push(pkg);
  // The task sequence stays on the site (the media only names it); its files never go on media.
  if (pkg.type === "task-sequence") return;
  for (const f of pkg.files) {
    media.items.push({
      ...f,
      packageId: pkg.id,
      origin: { kind: ORIGIN_KIND, location: contentUrl(dp, pkg.id, f.path) },
    });
  }
}

/** Auth headers from secret references (registered with the redactor) and TLS files. */
async function createClient(
  dps: DistributionPoints,
  ctx: BuildContext,
  specDir: string,
  options: DistributionPointOptions,
): Promise<DpClient> {
  const headers: Record<string, string> = {};
  if (dps.auth && "bearer" in dps.auth) {
    headers.authorization = `Bearer ${await resolveSecret(dps.auth.bearer, specDir, ctx.redactor, "contentLibrary.auth.bearer")}`;
  } else if (dps.auth) {
    const password = await resolveSecret(
      dps.auth.basic.password,
      specDir,
      ctx.redactor,
      "contentLibrary.auth.basic.password",
    );
    const token = Buffer.from(`${dps.auth.basic.user}:${password}`).toString("base64");
    ctx.redactor.add(token);
    headers.authorization = `Basic ${token}`;
  }
  const tls: NonNullable<ClientOptions["tls"]> = {};
  if (dps.caFile) tls.ca = await readTlsFile(specDir, dps.caFile, "contentLibrary.caFile");
  if (dps.clientCert) {
    tls.cert = await readTlsFile(specDir, dps.clientCert.cert, "contentLibrary.clientCert.cert");
    tls.key = await readTlsFile(specDir, dps.clientCert.key, "contentLibrary.clientCert.key");
  }
  const onNotice = (message: string) => {
    ctx.log.write("fetch", message);
    ctx.progress.warn(message);
  };
  return new DpClient(dps.urls, { headers, tls, retry: options.retry, onNotice });
}

async function readTlsFile(specDir: string, file: string, where: string): Promise<Buffer> {
  const path = resolve(specDir, file);
  try {
    const data = await readFile(path);
    if (!data.includes("-----BEGIN ")) throw Object.assign(new Error("not PEM"), { code: "not PEM" });
    return data;
  } catch (e) {
    throw dpError(
      "BM2106",
      `${where}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { where },
    );
  }
}
