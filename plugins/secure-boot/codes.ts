/** Codes of the Secure Boot rules: BM36xx (validation). */
import { defineCodes } from "../../base/errors.ts";

export const SECURE_BOOT_CODES = defineCodes("secure-boot", {
  BM3701: { title: "boot loader unsigned for a Secure Boot machine", hint: "A machine of the spec boots with Secure Boot on and the media's GRUB (bootmedia's own build) is unsigned, so its firmware refuses it: turn Secure Boot off on that machine (or enroll nothing: a signed chain, shim + Debian-signed GRUB or your own key, is not yet something bootmedia builds)." },
  BM3702: { title: "boot loader signed by a key the machine does not trust", hint: "The machine's `trust` does not match the media's chain: `signed` media need `trust: microsoft`; `own-key` media need the certificate they were signed with enrolled in the machine's db (give that certificate file as `trust`)." },
  BM3703: { title: "kernel not signed by a key the chain trusts", hint: "GRUB under Secure Boot starts only kernels the chain trusts: use the distribution's signed kernel (signed chain) or sign the kernel with the same key as GRUB (own-key chain)." },
  BM3704: { title: "no Secure Boot chain for 32-bit UEFI", hint: "No signed shim exists for ia32 UEFI in Debian: turn Secure Boot off on that machine, or use the own-key chain with the machine's db holding your certificate." },
  BM3705: { title: "trusted certificate unreadable", hint: "`trust` names a certificate file (PEM or DER, relative to the spec) or `microsoft`: check the path and that `openssl x509 -in FILE -noout -subject` reads it." },
  BM3706: { title: "EFI binary revoked by SBAT", hint: "A component's SBAT generation is below the revocation level shims apply: machines that applied it refuse the binary; rebuild the media with current signed packages (shim-signed, grub-efi-amd64-signed)." },
});

/** The code each refusal of core/secure-boot.ts is reported with. */
export const REFUSAL_CODES = {
  "unsigned-loader": "BM3701",
  "untrusted-signer": "BM3702",
  "kernel-untrusted": "BM3703",
  "no-ia32-chain": "BM3704",
} as const;
