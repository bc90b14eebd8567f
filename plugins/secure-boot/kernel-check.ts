/**
 * Once fetched, every x64 kernel on media with a Secure Boot chain must be one that chain
 * starts (kernel-trust.ts): BM3703 otherwise, since GRUB would refuse it on every machine
 * with Secure Boot on, which is what the chain is for.
 */
import { readFile } from "node:fs/promises";
import { BootmediaError } from "../../base/errors.ts";
import { SB_REFUSALS, type SbChain } from "../../core/secure-boot.ts";
import type { ResolvedMedia } from "../../core/types.ts";
import { chainFile, shimVendorSubject } from "./debian-chain.ts";
import { kernelSigners } from "./kernel-trust.ts";
import type { Signer } from "./signing-key.ts";
import "./codes.ts";

export async function checkKernels(
  media: ResolvedMedia,
  chain: Exclude<SbChain, "unsigned">,
  signer: Signer | undefined,
  log: (line: string) => void,
): Promise<void> {
  const shimPath = chainFile(chain === "signed" ? "shimSigned" : "shimUnsigned");
  const vendorSubject = shimVendorSubject(await readFile(shimPath), shimPath);
  const trusts = [
    vendorSubject && `certificates issued by ${vendorSubject} (shim's vendor certificate)`,
    signer && `${signer.subject} (the signing certificate)`,
  ]
    .filter(Boolean)
    .join(" and ");
  for (const pkg of media.bootImages.filter((p) => p.bootImage.arch === "x64")) {
    const item = media.items.find((i) => i.packageId === pkg.id && i.path === pkg.bootImage.kernel);
    if (!item?.localPath) continue;
    const label = `package ${pkg.id}: ${item.path}`;
    const k = kernelSigners(
      await readFile(item.localPath),
      { vendorSubject, ...(signer ? { certificateSha256: signer.certificateSha256 } : {}) },
      label,
    );
    const by = k.signers.length ? `signed by ${k.signers.join("; ")}` : "unsigned";
    log(`${label}: ${by}: ${k.trusted ? "started" : "refused"} by the ${chain} chain`);
    if (!k.trusted) {
      throw new BootmediaError(
        "BM3703",
        `${label}: ${SB_REFUSALS["kernel-untrusted"]} (the kernel is ${by}; the ${chain} chain trusts ${trusts})`,
        { where: label },
      );
    }
  }
}
