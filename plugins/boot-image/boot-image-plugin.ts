/**
 * Boot images: checks them against the machines the media must boot on (the rules of
 * core/compat.ts) and checks each manifest's kernel and initrd (listed in the package; the
 * kernel an x86 bzImage of the stated arch, read once fetched), and lays out their files.
 * The boot loader that starts them is plugins/boot-loader/.
 */
import { missingDrivers, planBoot, INCOMPATIBLE_REASONS } from "../../core/compat.ts";
import { diagnostic } from "../../base/diagnostics.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import { dedupeEntries } from "../../core/layout-checks.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import { checkImageFiles, checkKernelFile } from "./kernel-check.ts";
import "./codes.ts";

const PLUGIN_NAME = "BootImagePlugin";

export class BootImagePlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(build: PluginBuild): void {
    build.hooks.validate.tapPromise(PLUGIN_NAME, async (media, reporter) => {
      for (const id of media.bootImageIds) {
        const pkg = media.packages.find((p) => p.id === id);
        if (pkg && pkg.type !== "boot-image") {
          reporter.report(
            diagnostic("BM2007", `bootImage ${id} is a ${pkg.type} package, not a boot image`, {
              path: "bootImage",
              source: PLUGIN_NAME,
            }),
          );
        }
      }
      const images = media.bootImages;
      if (images.length === 0) {
        reporter.report(
          diagnostic("BM3002", "the media has no boot image", { path: "bootImage", source: PLUGIN_NAME }),
        );
        return;
      }
      const ts = media.packages.find((p) => p.id === media.spec.taskSequence);
      if (ts && ts.type !== "task-sequence") {
        reporter.report(
          diagnostic("BM2007", `taskSequence ${ts.id} is a ${ts.type} package`, {
            path: "taskSequence",
            source: PLUGIN_NAME,
          }),
        );
      }
      for (const pkg of images) for (const d of checkImageFiles(pkg)) reporter.report({ ...d, source: PLUGIN_NAME });
      const arches = images.map((p) => p.bootImage.arch);
      for (const arch of new Set(arches)) {
        const same = images.filter((p) => p.bootImage.arch === arch).map((p) => p.id);
        if (same.length > 1)
          reporter.report(
            diagnostic(
              "BM3605",
              `boot images ${same.join(", ")} are all ${arch}: a machine boots one image per architecture`,
              { path: "bootImage", source: PLUGIN_NAME },
            ),
          );
      }
      media.spec.machines.forEach((m, i) => {
        const where = `machines[${i}] (${m.arch}-${m.firmware})`;
        const plan = planBoot(m, arches);
        if (!plan.ok) {
          reporter.report(
            diagnostic("BM3003", `${where}: ${INCOMPATIBLE_REASONS[plan.reason]} (images: ${arches.join(", ")})`, {
              path: where,
              source: PLUGIN_NAME,
            }),
          );
          return;
        }
        const image = images.find((p) => p.bootImage.arch === plan.image)!.bootImage;
        if (image.firmware && !image.firmware.includes(m.firmware)) {
          reporter.report(
            diagnostic("BM3007", `${where}: the ${plan.image} boot image has no ${m.firmware} boot files`, {
              path: where,
              source: PLUGIN_NAME,
            }),
          );
        }
        const missing = m.nic ? missingDrivers([m.nic], image.drivers) : [];
        if (missing.length > 0) {
          reporter.report(
            diagnostic(
              "BM3004",
              `${where}: the ${plan.image} boot image lacks the NIC driver ${missing.join(", ")} (it carries: ${image.drivers.join(", ")})`,
              { path: where, source: PLUGIN_NAME },
            ),
          );
        }
      });
    });

    // The kernel's header is read from the verified local copy: validation sees manifests only.
    build.hooks.afterFetch.tapPromise(PLUGIN_NAME, async (media) => {
      for (const pkg of media.bootImages) {
        const item = media.items.find((i) => i.packageId === pkg.id && i.path === pkg.bootImage.kernel);
        if (item?.localPath)
          await checkKernelFile(item.localPath, pkg.bootImage.arch, `package ${pkg.id}: ${item.path}`);
      }
    });

    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.BOOT }, async (layout, media) => {
      const volume = layout.volumes[0]!;
      for (const pkg of media.bootImages) {
        const info = pkg.bootImage;
        for (const f of pkg.files)
          volume.entries.push({
            type: "file",
            path: f.path,
            size: f.size,
            source: { kind: "content", sha256: f.sha256 },
          });
        layout.config.images.push({
          id: pkg.id,
          arch: info.arch,
          kernel: info.kernel,
          ...(info.initrd ? { initrd: info.initrd } : {}),
          drivers: info.drivers,
          ...(info.testbed ? { testbed: info.testbed } : {}),
        });
      }
      dedupeEntries(volume);
      return layout;
    });
  }
}
