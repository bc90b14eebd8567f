/**
 * Authenticode-signs EFI binaries and kernels with sbsign (Debian's sbsigntool): the signature
 * is appended to any the file already carries (a Debian-signed kernel keeps Debian's). The
 * key goes to sbsign through a pipe, never into a file.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { programName, runProgram } from "../../core/program.ts";
import { scratchDir } from "../../core/scratch.ts";
import type { Signer } from "./signing-key.ts";
import "./codes.ts";

const SBSIGN = programName("sbsign");

/** The signed copy of `input` (a PE/COFF image); `label` names it in errors. */
export async function signPe(input: Buffer, signer: Signer, label: string): Promise<Buffer> {
  const dir = await scratchDir("sign");
  try {
    const unsigned = join(dir, "unsigned.efi");
    const signed = join(dir, "signed.efi");
    // The user's certificate may be DER: sbsign reads PEM only (the certificate is public).
    const cert = join(dir, "certificate.pem");
    await writeFile(unsigned, input);
    await writeFile(cert, signer.certificatePem);
    // Node's stdin pipe is a socket, which sbsign cannot open by path: bash's process
    // substitution turns it into a pipe (/dev/fd/N) for sbsign's --key.
    const script = `command -v ${SBSIGN} >/dev/null || exit 127; exec ${SBSIGN} --key <(cat) --cert "$1" --output "$2" "$3"`;
    const r = await runProgram("bash", ["-c", script, "sign-pe", cert, signed, unsigned], {
      input: signer.keyPem,
      reject: false,
    });
    if (r.exitCode === 127)
      throw new BootmediaError("BM4403", "sbsign is not installed (Debian package sbsigntool)", { where: "sbsign" });
    if (r.exitCode !== 0) {
      // sbsign warns about gaps between sections on every shim: not the reason it failed.
      const why = r.stderr
        .split("\n")
        .filter((l) => l.trim() && !/^warning: data remaining/.test(l))
        .join("\n")
        .trim();
      throw new BootmediaError("BM4404", `sbsign could not sign ${label}: ${why || `exit code ${r.exitCode}`}`, {
        where: label,
      });
    }
    return await readFile(signed);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
