/** A machine's `trust` (spec) as the rules read it: Microsoft's CA, or one certificate's SHA-256 fingerprint. */
import { createHash, X509Certificate } from "node:crypto";
import { LIMITS, readInputBytes } from "../../core/limits.ts";
import { isAbsolute, join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import type { SbTrust } from "../../core/secure-boot.ts";
import "./codes.ts";

/** SHA-256 (hex) of a certificate's DER encoding, from PEM or DER bytes. */
export function certificateSha256(bytes: Buffer): string {
  const der = new X509Certificate(bytes).raw;
  return createHash("sha256").update(der).digest("hex");
}

export async function resolveTrust(trust: string | undefined, specDir: string, where: string): Promise<SbTrust> {
  if (trust === undefined || trust === "microsoft") return { kind: "microsoft" };
  const file = isAbsolute(trust) ? trust : join(specDir, trust);
  const bytes = await readInputBytes(file, {
    label: `${where}: trusted certificate`,
    maxBytes: LIMITS.secretBytes,
    code: "BM3705",
  });
  try {
    return { kind: "certificate", sha256: certificateSha256(bytes), label: trust };
  } catch (e) {
    throw new BootmediaError(
      "BM3705",
      `${where}: cannot read the trusted certificate ${trust}: ${(e as Error).message}`,
      { where: file, cause: e },
    );
  }
}
