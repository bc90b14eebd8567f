/**
 * Secure Boot: refuses media whose boot chain a machine of the spec (secureBoot: true) would
 * reject, by the rules of core/secure-boot.ts. bootmedia owns the boot loader (plugins/boot-loader):
 * its GRUB comes from grub-mkimage, unsigned, so every media's chain is `unsigned` until a chain
 * option (signed shim + Debian GRUB, or own-key signing) exists; the rules are written for all three.
 */
import { diagnostic } from "../../base/diagnostics.ts";
import { BootmediaError } from "../../base/errors.ts";
import { planBoot } from "../../core/compat.ts";
import { planSecureBoot, SB_REFUSALS, type MediaChain } from "../../core/secure-boot.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import { bootImagesOf } from "../boot-image/boot-image-plugin.ts";
import { REFUSAL_CODES } from "./codes.ts";
import { resolveTrust } from "./trust.ts";

export const PLUGIN_NAME = "SecureBootPlugin";

/** bootmedia's own GRUB build, unsigned. */
export const UNSIGNED_CHAIN: MediaChain = { chain: "unsigned", kernelSigned: false };

/** The chain this build puts on the media. */
function mediaChain(): MediaChain {
  return UNSIGNED_CHAIN;
}

export class SecureBootPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(build: PluginBuild): void {
    build.hooks.validate.tapPromise(PLUGIN_NAME, async (media, reporter) => {
      const images = bootImagesOf(media);
      const arches = images.map((p) => p.bootImage!.arch);
      for (const [i, m] of media.spec.machines.entries()) {
        if (!m.secureBoot || m.firmware !== "uefi") continue;
        const where = `machines[${i}] (${m.arch}-${m.firmware}, Secure Boot)`;
        const plan = planBoot(m, arches);
        if (!plan.ok) continue; // BootImagePlugin reports it
        let trust;
        try {
          trust = await resolveTrust(m.trust, media.specDir, where);
        } catch (e) {
          if (!(e instanceof BootmediaError)) throw e;
          reporter.report(diagnostic(e.code, e.message, { path: where, source: PLUGIN_NAME }));
          continue;
        }
        const chain = mediaChain();
        const sb = planSecureBoot({ ...m, trust }, chain);
        if (!sb.ok) {
          reporter.report(diagnostic(REFUSAL_CODES[sb.refusal], `${where}: ${SB_REFUSALS[sb.refusal]} (the media's boot chain: ${chain.chain})`, { path: where, source: PLUGIN_NAME }));
        }
      }
    });
  }
}
