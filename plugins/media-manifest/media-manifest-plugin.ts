/**
 * Records bootmedia/manifest.json (manifest.ts) after the configuration is rendered and
 * before a CD/DVD set is split, so it lists whole files. Files whose bytes exist only at
 * write time (the ISO's EFI system partition image) are left out: nothing to hash yet; so
 * is the El Torito image on an ISO, whose boot-info table the ISO writer fills in.
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { sha256File } from "../../core/content/manifest.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { LayoutFile, MediaLayout } from "../../core/types.ts";
import { MANIFEST_PATH, type MediaManifest, type MediaManifestFile } from "./manifest.ts";

const PLUGIN_NAME = "MediaManifestPlugin";

export class MediaManifestPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(build: PluginBuild): void {
    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.MANIFEST }, async (layout, media) => {
      const manifest: MediaManifest = {
        schema: 1,
        files: await recordFiles(layout, media.target.type === "iso" ? patchedOnIso(layout) : new Set()),
        boot: layout.volumes.flatMap((v) =>
          v.boot.map((b) => ({ firmware: b.firmware, arch: b.arch, role: b.role, path: b.path })),
        ),
        machines: media.spec.machines.map((m) => ({
          arch: m.arch,
          firmware: m.firmware,
          ...(m.nic ? { nic: m.nic } : {}),
        })),
      };
      const data = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
      layout.volumes[0]!.entries.push({
        type: "file",
        path: MANIFEST_PATH,
        size: data.length,
        source: { kind: "bytes", data },
      });
      build.context.log.write(
        "manifest",
        `${MANIFEST_PATH}: ${manifest.files.length} files (${manifest.files.filter((f) => f.boot).length} boot files)`,
      );
      return layout;
    });
  }
}

/** The BIOS El Torito image: the ISO writer writes its LBA, length and checksum into it (El Torito boot-info table). */
function patchedOnIso(layout: MediaLayout): Set<string> {
  return new Set(layout.volumes.flatMap((v) => v.boot.filter((b) => b.role === "bios-eltorito").map((b) => b.path)));
}

async function recordFiles(layout: MediaLayout, skip: ReadonlySet<string>): Promise<MediaManifestFile[]> {
  const bootPaths = new Set([
    ...layout.volumes.flatMap((v) => v.boot.map((b) => b.path)),
    ...layout.config.images.flatMap((i) => [i.kernel, i.initrd]),
  ]);
  const out: MediaManifestFile[] = [];
  for (const e of layout.volumes.flatMap((v) => v.entries)) {
    if (e.type !== "file" || skip.has(e.path)) continue;
    const sha256 = await hashOf(e);
    if (sha256 === undefined) continue;
    out.push({ path: e.path, size: e.size, sha256, ...(bootPaths.has(e.path) ? { boot: true as const } : {}) });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function hashOf(e: LayoutFile): Promise<string | undefined> {
  const s = e.source;
  if (s.kind === "content") return s.sha256;
  if (s.kind === "bytes") return createHash("sha256").update(s.data).digest("hex");
  if (
    s.kind === "file" &&
    (await stat(s.path).then(
      (st) => st.isFile() && st.size === e.size,
      () => false,
    ))
  )
    return sha256File(s.path);
  return undefined;
}
