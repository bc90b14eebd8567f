/**
 * The boot loader on the media: GRUB's boot files from bootmedia's own boot-loader build
 * (boot-loader-build.ts) and a boot/grub/grub.cfg generated from the manifests of every
 * boot image on the media. Boot-image packages carry only their kernel, initrd and command line.
 */
import { statSync } from "node:fs";
import { FIRMWARES, type Arch, type Firmware } from "../../core/compat.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { ContentPackage, MediaLayout } from "../../core/types.ts";
import { BOOT_LOADER_FILES, bootLoaderCacheDir, ensureBootLoader, type GrubBootRole } from "./boot-loader-build.ts";
import { GRUB_CFG_MEDIA_PATH, renderGrubCfg, type GrubImage } from "./grub-cfg.ts";
import { BOOT_LOADER } from "./spec.ts";
import "./codes.ts";

const PLUGIN_NAME = "BootLoaderPlugin";

/** The firmware an image boots on (all of them unless its manifest narrows it). */
const firmwareOf = (pkg: ContentPackage): readonly Firmware[] => pkg.bootImage?.firmware ?? FIRMWARES;

/**
 * The boot files the media needs: the BIOS ones when any image boots on BIOS; a UEFI file
 * only for a bitness the media has an image of (UEFI firmware starts only its own bitness).
 */
export function bootRolesFor(images: readonly ContentPackage[]): GrubBootRole[] {
  const bios = images.some((p) => firmwareOf(p).includes("bios"));
  const uefi = (arch: Arch) => images.some((p) => p.bootImage!.arch === arch && firmwareOf(p).includes("uefi"));
  return (Object.keys(BOOT_LOADER_FILES) as GrubBootRole[]).filter((role) => {
    const t = BOOT_LOADER_FILES[role];
    return t.firmware === "bios" ? bios : uefi(t.arch);
  });
}

export function grubImagesOf(images: readonly ContentPackage[]): GrubImage[] {
  return images.map((p) => {
    const b = p.bootImage!;
    return {
      id: p.id,
      arch: b.arch,
      kernel: b.kernel,
      ...(b.initrd ? { initrd: b.initrd } : {}),
      cmdline: b.cmdline ?? "",
    };
  });
}

export class BootLoaderPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(build: PluginBuild): void {
    build.hooks.layout.tapPromise(
      { name: PLUGIN_NAME, stage: LAYOUT_STAGE.BOOT },
      async (layout: MediaLayout, media) => {
        const images = media.bootImages;
        if (images.length === 0) return layout;
        const volume = layout.volumes[0]!;
        const log = (line: string) => build.context.log.write("boot-loader", line);
        const loader = await ensureBootLoader(bootLoaderCacheDir(build.context.cache.dir), log);
        for (const role of bootRolesFor(images)) {
          const local = loader.files[role];
          const { mediaPath: path, firmware, arch } = BOOT_LOADER_FILES[role];
          volume.entries.push({
            type: "file",
            path,
            size: statSync(local).size,
            source: { kind: "file", path: local },
          });
          volume.boot.push({ firmware, arch, role, path });
        }
        const cfg = new TextEncoder().encode(
          renderGrubCfg(grubImagesOf(images), BOOT_LOADER.of(media.spec)?.kernelArgs ?? ""),
        );
        volume.entries.push({
          type: "file",
          path: GRUB_CFG_MEDIA_PATH,
          size: cfg.length,
          source: { kind: "bytes", data: cfg },
        });
        log(
          `grub.cfg for ${images.map((p) => `${p.id} (${p.bootImage!.arch})`).join(", ")}; boot files from ${loader.dir}${loader.built ? " (built now)" : ""}`,
        );
        return layout;
      },
    );
  }
}
