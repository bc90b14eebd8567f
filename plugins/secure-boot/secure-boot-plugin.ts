/**
 * Secure Boot: puts the chain `secureBoot.chain` asks for on the media (chain-layout.ts) and
 * refuses media whose chain a machine of the spec (secureBoot: true) would reject, by the
 * rules of core/secure-boot.ts: from the spec at validation, and from the kernels' own
 * signatures once they are fetched.
 */
import { diagnostic } from "../../base/diagnostics.ts";
import { BootmediaError } from "../../base/errors.ts";
import { planBoot } from "../../core/compat.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import { planSecureBoot, SB_REFUSALS, type MediaChain, type SbChain } from "../../core/secure-boot.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { ResolvedMedia } from "../../core/types.ts";
import { layoutChain } from "./chain-layout.ts";
import { REFUSAL_CODES } from "./codes.ts";
import { checkKernels } from "./kernel-check.ts";
import { loadSigner, type Signer } from "./signing-key.ts";
import { SECURE_BOOT } from "./spec.ts";
import { resolveTrust } from "./trust.ts";

const PLUGIN_NAME = "SecureBootPlugin";

/** bootmedia's own GRUB build, unsigned. */
const UNSIGNED_CHAIN: MediaChain = { chain: "unsigned", kernelSigned: false };

const chainOf = (media: ResolvedMedia): SbChain => SECURE_BOOT.of(media.spec)?.chain ?? "unsigned";

/** The Secure Boot machines of the spec, each with where it stands in the spec. */
function secureBootMachines(media: ResolvedMedia) {
  return media.spec.machines.flatMap((m, i) =>
    m.secureBoot && m.firmware === "uefi"
      ? [{ m, where: `machines[${i}] (${m.arch}-${m.firmware}, Secure Boot)` }]
      : [],
  );
}

export class SecureBootPlugin implements Plugin {
  readonly name = PLUGIN_NAME;
  /** The own-key chain's signer, read once per build (validation) and used by the layout. */
  private signer: Signer | undefined;

  private async signerFor(build: PluginBuild, media: ResolvedMedia): Promise<Signer | undefined> {
    const signing = SECURE_BOOT.of(media.spec)?.signing;
    if (chainOf(media) !== "own-key" || !signing) return undefined;
    this.signer ??= await loadSigner(signing, media.specDir, build.context.redactor, "secureBoot.signing");
    return this.signer;
  }

  apply(build: PluginBuild): void {
    build.hooks.validate.tapPromise(PLUGIN_NAME, async (media, reporter) => {
      let signer: Signer | undefined;
      try {
        signer = await this.signerFor(build, media);
      } catch (e) {
        if (!(e instanceof BootmediaError)) throw e;
        reporter.report(diagnostic(e.code, e.message, { path: "secureBoot.signing", source: PLUGIN_NAME }));
        return;
      }
      const chain = chainOf(media);
      // The kernels' signatures are read once fetched (kernel-check.ts); here the spec's word.
      const mediaChain: MediaChain =
        chain === "unsigned"
          ? UNSIGNED_CHAIN
          : { chain, kernelSigned: true, ...(signer ? { signerSha256: signer.certificateSha256 } : {}) };
      const arches = media.bootImages.map((p) => p.bootImage.arch);
      for (const { m, where } of secureBootMachines(media)) {
        if (!planBoot(m, arches).ok) continue; // BootImagePlugin reports it
        let trust;
        try {
          trust = await resolveTrust(m.trust, media.specDir, where);
        } catch (e) {
          if (!(e instanceof BootmediaError)) throw e;
          reporter.report(diagnostic(e.code, e.message, { path: where, source: PLUGIN_NAME }));
          continue;
        }
        const sb = planSecureBoot({ ...m, trust }, mediaChain);
        if (!sb.ok) {
          reporter.report(
            diagnostic(REFUSAL_CODES[sb.refusal], `${SB_REFUSALS[sb.refusal]} (the media's boot chain: ${chain})`, {
              path: where,
              source: PLUGIN_NAME,
            }),
          );
        }
      }
    });

    build.hooks.afterFetch.tapPromise(PLUGIN_NAME, async (media) => {
      const chain = chainOf(media);
      if (chain === "unsigned") return;
      await checkKernels(media, chain, await this.signerFor(build, media), (line) =>
        build.context.log.write("secure-boot", line),
      );
    });

    // After the boot loader has put bootmedia's GRUB at EFI/BOOT/BOOTX64.EFI (stage BOOT).
    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.BOOT + 10 }, async (layout, media) => {
      const chain = chainOf(media);
      if (chain === "unsigned") return layout;
      return layoutChain(layout, chain, await this.signerFor(build, media), build.context.cache.dir, (line) =>
        build.context.log.write("secure-boot", line),
      );
    });
  }
}
