/**
 * Whether a kernel starts under a shim-based chain: GRUB asks shim to verify it, and shim
 * accepts a signature by a certificate in db (or MOK) or by one its vendor certificate issued.
 * Read from the kernel's Authenticode signatures (names and certificate hashes; shim checks
 * the cryptography at boot, and the testbed proves it).
 */
import { BootmediaError } from "../../base/errors.ts";
import { readAuthenticode, readPe, signedDataOf } from "../../formats/pe/index.ts";

export interface KernelTrust {
  /** Subject of the shim's vendor certificate: signatures issued by it are trusted. */
  vendorSubject?: string | null;
  /** SHA-256 of a certificate in db (the own-key chain's signer): its signatures are trusted. */
  certificateSha256?: string;
}

interface KernelSigners {
  trusted: boolean;
  signers: string[];
}

export function kernelSigners(kernel: Buffer, trust: KernelTrust, where: string): KernelSigners {
  let found;
  try {
    found = signedDataOf(readPe(kernel, where)).flatMap((d) => readAuthenticode(d) ?? []);
  } catch (e) {
    if (!(e instanceof BootmediaError)) throw e;
    return { trusted: false, signers: [] }; // no readable PE image: nothing signed it
  }
  const trusted = found.some(
    (s) =>
      (!!trust.certificateSha256 && s.certificateSha256 === trust.certificateSha256) ||
      (!!trust.vendorSubject && (s.issuer === trust.vendorSubject || s.subject === trust.vendorSubject)),
  );
  return { trusted, signers: found.map((s) => s.subject) };
}
