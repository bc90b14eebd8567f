/**
 * The `iso` target (the wizard's CD/DVD set): ISO 9660 + Joliet + Rock Ridge images with El
 * Torito BIOS and UEFI boot entries, hybrid MBR so the same .iso boots from a USB stick,
 * and numbered volumes (`<name>-1.iso`, …) when the capacity is too small.
 */
import { readFile, rm } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { writeIso } from "../../formats/iso9660/write.ts";
import { diagnostic, diagnosticFromError } from "../../base/diagnostics.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import type { MediaWriter, WriteContext } from "../../core/write.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { LayoutEntry, LayoutFile, MediaLayout, Target, Volume } from "../../core/types.ts";
import { capacityBytes } from "./capacity.ts";
import { ESP_PATH, espFiles, espScratchPath, planEspBytes, writeEsp } from "./esp.ts";
import { isoOptions, plannedVolumeBytes } from "./iso-options.ts";
import { SplitError, splitVolumes, VOLUME_ID_FILE, VOLUMES_MANIFEST, volumesManifest } from "./split.ts";
import "./codes.ts";
import { ISO_TARGET } from "./spec.ts";

const PLUGIN_NAME = "IsoPlugin";
/** Paths that must be on volume 1 for the media to boot. */
const BOOT_PREFIXES = ["boot/", "EFI/", "bootmedia/"];

function isoOutputs(layout: MediaLayout, target: Target): string[] {
  if (layout.volumes.length === 1) return [target.output];
  const ext = extname(target.output) || ".iso";
  const base = basename(target.output, ext);
  return layout.volumes.map((v) => join(dirname(target.output), `${base}-${v.index}${ext}`));
}

export class IsoPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(build: PluginBuild): void {
    const epoch = build.context.options.sourceDateEpoch;
    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.BOOT + 10 }, async (layout) => {
      const volume = layout.volumes[0]!;
      const efi = espFiles(volume);
      if (efi.length > 0)
        volume.entries.push({
          type: "file",
          path: ESP_PATH,
          size: planEspBytes(efi, epoch),
          source: { kind: "file", path: espScratchPath() },
        });
      return layout;
    });

    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.SPLIT }, async (layout, media) => {
      // Stand-alone media span discs themselves (plugins/standalone: pieces named in their index).
      if (media.spec.mediaType === "standalone") return layout;
      const capacity = capacityBytes(ISO_TARGET.narrow(media.target)?.capacity);
      const all = layout.volumes[0]!;
      const total = all.entries.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0);
      if (!Number.isFinite(capacity) || total + 4 * 1024 * 1024 <= capacity) return layout;
      const bootPaths = new Set(all.boot.map((b) => b.path));
      const pinned = (e: LayoutEntry) => bootPaths.has(e.path) || BOOT_PREFIXES.some((p) => e.path.startsWith(p));
      let result;
      try {
        result = splitVolumes(all.entries, pinned, capacity, 256 * all.entries.length + 64 * 1024);
      } catch (e) {
        if (e instanceof SplitError) {
          build.context.log.write("layout", `split failed: ${e.message}`);
          return layout; // checkLayout reports the capacity problem with its code
        }
        throw e;
      }
      const volumes: Volume[] = result.volumes.map((v) => ({
        index: v.index,
        label: `${layout.config.id}-${v.index}`,
        entries: v.entries,
        boot: v.index === 1 ? all.boot : [],
      }));
      const manifest = new TextEncoder().encode(volumesManifest(layout.config.id, volumes, result.split));
      for (const v of volumes) {
        const id = new TextEncoder().encode(
          JSON.stringify({ set: layout.config.id, index: v.index, count: volumes.length }) + "\n",
        );
        v.entries.push({ type: "file", path: VOLUME_ID_FILE, size: id.length, source: { kind: "bytes", data: id } });
        if (v.index === 1)
          v.entries.push({
            type: "file",
            path: VOLUMES_MANIFEST,
            size: manifest.length,
            source: { kind: "bytes", data: manifest },
          });
      }
      build.context.log.write(
        "layout",
        `content split over ${volumes.length} volumes of ${capacity} bytes; ${result.split.length} file(s) cut into parts`,
      );
      return { ...layout, volumes };
    });

    build.hooks.checkLayout.tapPromise(PLUGIN_NAME, async (layout, media, reporter) => {
      const capacity = capacityBytes(ISO_TARGET.narrow(media.target)?.capacity);
      for (const volume of layout.volumes) {
        try {
          const bytes = plannedVolumeBytes(layout.config.id, layout.volumes.length, volume, epoch);
          if (bytes > capacity) {
            reporter.report(
              diagnostic("BM3110", `volume ${volume.index} needs ${bytes} bytes; the capacity is ${capacity} bytes`, {
                source: PLUGIN_NAME,
                path: "target.capacity",
              }),
            );
          }
        } catch (e) {
          reporter.report(diagnosticFromError(e, PLUGIN_NAME));
        }
      }
    });

    build.hooks.writer.tap(PLUGIN_NAME, (target) => (target.type === "iso" ? isoWriter : undefined));
  }
}

async function hybridMbrCode(ctx: WriteContext, volume: Volume): Promise<Uint8Array | undefined> {
  const entry = volume.boot.find((b) => b.role === "bios-hybrid");
  const file = entry && (volume.entries.find((e) => e.path === entry.path) as LayoutFile | undefined);
  if (!file) return undefined;
  const src = ctx.sourceOf(file.source);
  return src.kind === "bytes" ? src.data : readFile(src.path);
}

const isoWriter: MediaWriter = {
  outputs: isoOutputs,
  async write(ctx) {
    const outputs = isoOutputs(ctx.layout, ctx.target);
    const results = [];
    for (const [i, volume] of ctx.layout.volumes.entries()) {
      const esp = volume.entries.find((e): e is LayoutFile => e.path === ESP_PATH && e.type === "file");
      const espPath = esp?.source.kind === "file" ? esp.source.path : undefined;
      try {
        if (esp && espPath)
          await writeEsp(espFiles(volume), (f) => ctx.sourceOf(f.source), esp.size, ctx.sourceDateEpoch, espPath);
        const tmp = await ctx.tx.temp(outputs[i]!);
        const stage = ctx.progress.stage(`write ${basename(outputs[i]!)}`, "bytes");
        const opts = {
          ...isoOptions(
            ctx.layout.config.id,
            ctx.layout.volumes.length,
            volume,
            ctx.sourceDateEpoch,
            await hybridMbrCode(ctx, volume),
          ),
          onProgress: (d: number, t: number) => stage.update(d, t),
        };
        const r = await writeIso(ctx.treeOf(volume), opts, tmp);
        stage.end();
        results.push({ path: outputs[i]!, bytes: r.bytes });
      } finally {
        if (espPath) await rm(espPath, { force: true });
      }
    }
    return results;
  },
};
