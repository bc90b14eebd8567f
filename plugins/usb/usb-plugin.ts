/**
 * The `usb` target: a FAT32 USB disk image (MBR, one active partition at 1 MiB, GRUB in
 * the MBR gap for BIOS, EFI/BOOT/*.EFI for UEFI), written to an image file or to a drive.
 * The layout is the shared one; only the writer differs from the ISO plugin.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { planUsbImage, writeUsbImage } from "../../formats/disk/index.ts";
import { diagnosticFromError } from "../../base/diagnostics.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { Volume } from "../../core/types.ts";
import { plannedTree, type MediaWriter, type WriteContext } from "../../core/write.ts";
import { parseSize } from "./size.ts";
import { approveDevice, copyImageToDevice } from "./device-write.ts";
import { checkDevice, probeDevice } from "./device.ts";
import { scratchDir } from "../../core/scratch.ts";
import { USB_TARGET } from "./spec.ts";

const PLUGIN_NAME = "UsbPlugin";

/** A FAT label: 11 characters of A-Z 0-9 _ - (Microsoft FAT spec, BS_VolLab). */
function fatLabel(name: string): string {
  return name
    .toUpperCase()
    .replace(/[^A-Z0-9_-]/g, "_")
    .slice(0, 11);
}

export class UsbPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(build: PluginBuild): void {
    const { options } = build.context;
    build.hooks.checkLayout.tapPromise(PLUGIN_NAME, async (layout, media, reporter) => {
      const size = USB_TARGET.narrow(media.target)?.size;
      const sizeBytes = size ? parseSize(size) : undefined;
      let totalBytes: number | undefined;
      try {
        totalBytes = (
          await planUsbImage(plannedTree(layout.volumes[0]!), {
            sourceDateEpoch: options.sourceDateEpoch,
            label: fatLabel(media.spec.name),
            ...(sizeBytes ? { sizeBytes } : {}),
          })
        ).plan.totalBytes;
      } catch (e) {
        reporter.report(diagnosticFromError(e, PLUGIN_NAME));
      }
      if (totalBytes !== undefined && media.target.isDrive) {
        try {
          for (const e of checkDevice(await probeDevice(media.target.output), totalBytes))
            reporter.report(diagnosticFromError(e, PLUGIN_NAME, media.target.output));
        } catch (e) {
          reporter.report(diagnosticFromError(e, PLUGIN_NAME, media.target.output));
        }
      }
    });
    build.hooks.writer.tap(PLUGIN_NAME, (target) => (target.type === "usb" ? usbWriter : undefined));
  }
}

/** GRUB's BIOS pieces, when the boot image carries them. */
function biosBoot(ctx: WriteContext, volume: Volume): { bootImg: string; coreImg: string } | undefined {
  const mbr = volume.boot.find((b) => b.role === "bios-mbr");
  const core = volume.boot.find((b) => b.role === "bios-core");
  if (!mbr || !core) return undefined;
  const pathOf = (mediaPath: string) => {
    const e = volume.entries.find((x) => x.type === "file" && x.path === mediaPath);
    if (!e || e.type !== "file") throw new Error(`boot file ${mediaPath} is not in the layout`);
    const src = ctx.sourceOf(e.source);
    if (src.kind !== "file") throw new Error(`boot file ${mediaPath} is not a file`);
    return src.path;
  };
  return { bootImg: pathOf(mbr.path), coreImg: pathOf(core.path) };
}

const usbWriter: MediaWriter = {
  // A drive is no output file: it is confirmed and verified instead (target.outputs is empty).
  outputs: (_layout, target) => [...target.outputs],
  async write(ctx) {
    const volume = ctx.layout.volumes[0]!;
    const size = USB_TARGET.narrow(ctx.target)?.size;
    const sizeBytes = size ? parseSize(size) : undefined;
    const stage = ctx.progress.stage(`write ${ctx.target.output}`, "bytes");
    const bios = biosBoot(ctx, volume);
    const opts = {
      sourceDateEpoch: ctx.sourceDateEpoch,
      label: fatLabel(ctx.media.spec.name),
      ...(sizeBytes ? { sizeBytes } : {}),
      ...(bios ? { bios } : {}),
      onProgress: (done: number, total: number) => stage.update(done, total),
    };
    if (!ctx.target.isDrive) {
      const tmp = await ctx.tx.temp(ctx.target.output);
      const plan = await writeUsbImage(ctx.treeOf(volume), opts, tmp);
      stage.end();
      return [{ path: ctx.target.output, bytes: plan.totalBytes }];
    }
    // A drive: build and check the whole image first, then confirm, copy and verify.
    const dir = await scratchDir("usb");
    try {
      const image = join(dir, "media.img");
      const plan = await writeUsbImage(ctx.treeOf(volume), opts, image);
      stage.end();
      await approveDevice(ctx.target.output, plan.totalBytes, { yes: ctx.yes, progress: stage });
      const copy = ctx.progress.stage(`copy to ${ctx.target.output}`, "bytes");
      const result = await copyImageToDevice(image, ctx.target.output, copy);
      copy.end();
      return [{ path: ctx.target.output, bytes: result.bytes, sha256: result.sha256 }];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
