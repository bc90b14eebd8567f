/** Codes of the Secure Boot rules: BM36xx (validation). */
import { defineCodes } from "../../base/errors.ts";

export const SECURE_BOOT_CODES = defineCodes("secure-boot", {
  BM3701: {
    title: "boot loader unsigned for a Secure Boot machine",
    hint: "A machine of the spec boots with Secure Boot on and the media's GRUB (bootmedia's own build) is unsigned, so its firmware refuses it: choose a Secure Boot chain (`secureBoot.chain: signed` for machines that trust Microsoft's UEFI CA, `own-key` with `secureBoot.signing` for machines that trust your certificate), or turn Secure Boot off on that machine.",
  },
  BM3702: {
    title: "boot loader signed by a key the machine does not trust",
    hint: "The machine's `trust` does not match the media's chain: `signed` media need `trust: microsoft`; `own-key` media need the certificate they were signed with enrolled in the machine's db (give that certificate file as `trust`).",
  },
  BM3703: {
    title: "kernel not signed by a key the chain trusts",
    hint: "GRUB under Secure Boot starts only kernels the chain trusts: use the distribution's signed kernel (signed chain) or sign the kernel with the same key as GRUB (own-key chain).",
  },
  BM3704: {
    title: "no Secure Boot chain for 32-bit UEFI",
    hint: "Debian ships no shim for ia32 UEFI (neither signed nor unsigned), and bootmedia builds its Secure Boot chains for x64 only: turn Secure Boot off on that 32-bit machine.",
  },
  BM3705: {
    title: "trusted certificate unreadable",
    hint: "`trust` names a certificate file (PEM or DER, relative to the spec) or `microsoft`: check the path and that `openssl x509 -in FILE -noout -subject` reads it.",
  },
  BM3707: {
    title: "signing key or certificate unreadable",
    hint: "The signing key is given by reference — spec `secureBoot.signing.key: { file: PATH }` or `{ env: NAME }` holding PEM, flag `--signing-key file:PATH|env:NAME` — with its password by reference when it is encrypted (`--signing-key-password`), and the certificate file (PEM or DER; `--signing-cert`). Check them with `openssl pkey -in KEY -noout` and `openssl x509 -in CERT -noout -subject`.",
  },
  BM3708: {
    title: "signing key unusable for Secure Boot",
    hint: "The certificate must belong to the key (`openssl x509 -noout -pubkey` equals `openssl pkey -pubout`), and the key must be RSA: UEFI firmware and shim check RSA (2048-bit) signatures with SHA-256.",
  },
  BM3709: {
    title: "Secure Boot chain settings incomplete",
    hint: "`secureBoot.chain: own-key` needs `secureBoot.signing` (key, certificate, password if the key is encrypted); `signing` is read only with `chain: own-key`.",
  },
  BM3706: {
    title: "EFI binary revoked by SBAT",
    hint: "A component's SBAT generation is below the revocation level shims apply: machines that applied it refuse the binary; rebuild the media with current signed packages (shim-signed, grub-efi-amd64-signed).",
  },
  BM4403: {
    title: "Secure Boot chain component missing",
    hint: "The signed chain takes shim from `shim-signed` and GRUB from `grub-efi-amd64-signed`; the own-key chain takes shim from `shim-unsigned`, GRUB's SBAT from `grub-efi-amd64-signed` and signs with `sbsign` (`sbsigntool`): run `bootmedia doctor --install`.",
  },
  BM4404: {
    title: "signing an EFI binary failed",
    hint: "sbsign refused the binary or the key; the message shows its output. Check the key and certificate with `openssl` and the binary with `sbverify --list FILE`.",
  },
});

/** The code each refusal of core/secure-boot.ts is reported with. */
export const REFUSAL_CODES = {
  "unsigned-loader": "BM3701",
  "untrusted-signer": "BM3702",
  "kernel-untrusted": "BM3703",
  "no-ia32-chain": "BM3704",
} as const;
