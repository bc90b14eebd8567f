/**
 * Secure Boot rules, as data, in one place (beside core/compat.ts): which boot chains a
 * machine with Secure Boot on starts. The validator refuses media the machines of the spec
 * would reject, `inspect` names the chain media carry, and the testbed derives its expected
 * verdicts from the same function.
 *
 * The chains (UEFI §32.5 "Image Execution" for db checks; shim's README for MOK and vendor keys):
 *   - `unsigned`: GRUB made by grub-mkimage, unsigned: refused by any firmware with Secure Boot on.
 *   - `signed`: shim signed by Microsoft's UEFI CA -> GRUB and kernel signed by the distribution's
 *     key that shim carries (Debian: shim-signed, grub-efi-amd64-signed, linux-image-amd64).
 *     Started where the firmware trusts Microsoft's third-party UEFI CA (most PCs).
 *   - `own-key`: GRUB and kernel signed by the user's key; started where that key's
 *     certificate is enrolled in db (or MOK).
 */
export const SB_CHAINS = ["unsigned", "signed", "own-key"] as const;
export type SbChain = (typeof SB_CHAINS)[number];

/** What a Secure Boot machine trusts: Microsoft's UEFI CA (db of shipped PCs) or one certificate (its SHA-256 fingerprint, hex). */
export type SbTrust = { kind: "microsoft" } | { kind: "certificate"; sha256: string; label: string };

/** The chain media carry, as the boot images' manifests and the spec's signing settings say. */
export interface MediaChain {
  chain: SbChain;
  /** own-key: SHA-256 (hex) of the DER certificate GRUB and the kernel are signed with. */
  signerSha256?: string;
  /** The kernel carries a signature from the key the chain trusts (distribution key for `signed`, the user key for `own-key`). */
  kernelSigned: boolean;
}

/** Why a Secure Boot machine does not start the media; each is what the firmware or shim prints. */
export const SB_REFUSALS = {
  "unsigned-loader": 'the boot loader is unsigned: firmware with Secure Boot on refuses it ("Access Denied")',
  "untrusted-signer": "the boot loader is signed by a key this machine does not trust",
  "kernel-untrusted": "the kernel is not signed by a key the boot chain trusts: GRUB refuses to start it",
  "no-ia32-chain": "no Secure Boot chain exists for 32-bit (ia32) UEFI: Debian ships no shim for it",
} as const;
/** @public reachable from the package's API types. */
export type SbRefusal = keyof typeof SB_REFUSALS;

/** The reason the testbed reads on the console for every refusal: the firmware's or shim's signature check. */
export const SB_REFUSED_REASON = "secure-boot-refused" as const;

/** @public reachable from the package's API types. */
export type SbPlan = { ok: true } | { ok: false; refusal: SbRefusal };

export interface SbMachine {
  arch: "x86" | "x64";
  firmware: "bios" | "uefi";
  secureBoot?: boolean;
  trust?: SbTrust;
}

/** Whether a machine starts media carrying `chain`; a machine without Secure Boot starts any chain. */
export function planSecureBoot(machine: SbMachine, media: MediaChain): SbPlan {
  if (machine.firmware !== "uefi" || !machine.secureBoot) return { ok: true };
  if (media.chain === "unsigned") return { ok: false, refusal: "unsigned-loader" };
  // Debian ships no ia32 shim, signed or not: both chains are x64 only, the ia32 GRUB stays unsigned.
  if (machine.arch === "x86") return { ok: false, refusal: "no-ia32-chain" };
  const trust = machine.trust ?? { kind: "microsoft" };
  const trusted =
    media.chain === "signed"
      ? trust.kind === "microsoft"
      : trust.kind === "certificate" &&
        !!media.signerSha256 &&
        trust.sha256.toLowerCase() === media.signerSha256.toLowerCase();
  if (!trusted) return { ok: false, refusal: "untrusted-signer" };
  if (!media.kernelSigned) return { ok: false, refusal: "kernel-untrusted" };
  return { ok: true };
}
