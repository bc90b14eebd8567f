/**
 * Once the outputs are in place (`done`), writes beside each `<output>.cdx.json` (the SBOM)
 * and `<output>.intoto.json` (the provenance, a DSSE envelope when `attestation.key` is
 * given), each atomically, like the build log. The key is loaded during validate, so a bad
 * key stops the build before a byte is written; it is never logged. What goes into both comes
 * from the final layout and the resolved media (checkLayout, which only looks).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { PACKAGE_VERSION } from "../../base/package-root.ts";
import { loadSigningKey, type SigningKey } from "../../core/attest/dsse.ts";
import { mediumSha256 } from "../../core/attest/medium-digest.ts";
import { writeFileAtomic } from "../../base/atomic-write.ts";
import { attestationText } from "../../core/attest/statement.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { MediaLayout, ResolvedMedia } from "../../core/types.ts";
import { renderSbom } from "./cyclonedx.ts";
import { gatherInventory, type Inventory } from "./inventory.ts";
import { provenanceStatement } from "./provenance.ts";
import { SBOM_SUFFIX, PROVENANCE_SUFFIX } from "./sbom-read.ts";
import { ATTESTATION } from "./spec.ts";

const PLUGIN_NAME = "SbomPlugin";

export class SbomPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(build: PluginBuild): void {
    const ctx = build.context;
    let signer: SigningKey | undefined;
    let seen: { media: ResolvedMedia; layout: MediaLayout } | undefined;

    build.hooks.validate.tapPromise(PLUGIN_NAME, async (media) => {
      const ref = ATTESTATION.of(media.spec)?.key;
      if (ref) signer = await loadSigningKey(ref, media.specDir, ctx.redactor, "attestation.key");
    });
    build.hooks.checkLayout.tap(PLUGIN_NAME, (layout, media) => {
      seen = { media, layout };
    });
    build.hooks.done.tapPromise(PLUGIN_NAME, async (summary) => {
      if (!seen) return;
      if (ctx.target.isDrive) {
        ctx.log.write("sbom", `no SBOM for a drive (${ctx.target.output}): build an image file to get one`);
        return;
      }
      const { media, layout } = seen;
      let inventory: Inventory | undefined;
      const spec = await specDigest(ctx.specFile, media.spec);
      for (const o of summary.outputs) {
        try {
          inventory ??= await gatherInventory(media, layout, ctx.cache.dir);
          for (const note of inventory.notes) ctx.log.write("sbom", note);
          const sha256 = o.sha256 ?? (await mediumSha256(o.path));
          const name = basename(o.path);
          const common = {
            mediaId: media.spec.name,
            bootmediaVersion: PACKAGE_VERSION,
            sourceDateEpoch: ctx.options.sourceDateEpoch,
            inventory,
          };
          const sbom = renderSbom({ ...common, medium: { name, sha256, targetType: media.target.type } });
          writeFileAtomic(o.path + SBOM_SUFFIX, sbom);
          const st = provenanceStatement({
            ...common,
            subject: { name, sha256 },
            sbom: { name: name + SBOM_SUFFIX, sha256: createHash("sha256").update(sbom).digest("hex") },
            spec,
            target: { type: media.target.type, output: name },
          });
          writeFileAtomic(o.path + PROVENANCE_SUFFIX, attestationText(st, signer));
          ctx.log.write(
            "sbom",
            `${o.path}${SBOM_SUFFIX}: ${inventory.packages.length} packages, ${countDebs(inventory)} Debian packages, ${inventory.certificates.length} certificates; ${o.path}${PROVENANCE_SUFFIX}: ${signer ? `signed (key ${signer.keyid.slice(0, 16)}…, from ${signer.from})` : "unsigned"}; medium sha256 ${sha256}`,
          );
        } catch (e) {
          if (e instanceof BootmediaError) throw e;
          throw new BootmediaError(
            "BM6012",
            `cannot write the SBOM or provenance of ${o.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
            { where: o.path, cause: e },
          );
        }
      }
    });
  }
}

const countDebs = (inv: Inventory) =>
  new Set([
    ...inv.packages.flatMap((p) => p.debs.map((d) => `${d.name}:${d.arch}=${d.version}`)),
    ...(inv.grub?.debs ?? []).map((d) => `${d.name}:${d.arch}=${d.version}`),
    ...inv.hostDebs.map((d) => `${d.name}:${d.arch}=${d.version}`),
  ]).size;

/** The spec file's name and sha256; a spec given without a file (flags, API): of its JSON. */
async function specDigest(file: string, spec: unknown): Promise<{ name: string; sha256: string }> {
  const bytes = await readFile(file).catch(() => undefined);
  if (bytes) return { name: basename(file), sha256: createHash("sha256").update(bytes).digest("hex") };
  return { name: "(spec without a file)", sha256: createHash("sha256").update(JSON.stringify(spec)).digest("hex") };
}
