/**
 * The own-key chain's kernel: Debian's kernel with the user's Authenticode signature appended
 * by sbsign (secure-boot's signPe, the key piped from memory). Debian's signature stays, so
 * the same kernel starts under the signed chain too.
 */
import { readFile, writeFile } from "node:fs/promises";
import { BootmediaError } from "../../base/errors.ts";
import { kernelSigners } from "../../plugins/secure-boot/kernel-trust.ts";
import { signPe } from "../../plugins/secure-boot/sign-pe.ts";
import type { Signer } from "../../plugins/secure-boot/signing-key.ts";
import "../../plugins/secure-boot/codes.ts";

interface SignedKernel {
  file: string;
  /** Subject of the certificate that signed it (the signer's). */
  subject: string;
  /** Every signature's signer subject, in order (Debian's first). */
  signers: string[];
}

/**
 * Signs the kernel `input` into `out` (a work file: the package is written from it afterwards,
 * so a failure leaves nothing in the library). The signature is read back as a check: BM4404
 * when sbsign's output carries none by the signer.
 */
export async function signKernel(input: string, out: string, signer: Signer, label: string): Promise<SignedKernel> {
  const signed = await signPe(await readFile(input), signer, label);
  const found = kernelSigners(signed, { certificateSha256: signer.certificateSha256 }, out);
  if (!found.trusted)
    throw new BootmediaError("BM4404", `sbsign returned ${label} without a signature by ${signer.subject}`, {
      where: input,
    });
  await writeFile(out, signed);
  return { file: out, subject: signer.subject, signers: found.signers };
}
