/**
 * The own-key chain's signer: the private key by reference (its password too, when it is
 * encrypted) and its certificate. The key is decrypted in memory and handed to sbsign over a
 * pipe (sign-pe.ts): no unencrypted copy is ever written to disk, and its text is redacted
 * from logs like every secret.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { resolve } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { certificateSubject } from "../../formats/pe/index.ts";
import { LIMITS, readInputBytes } from "../../core/limits.ts";
import { resolveSecret, type Redactor } from "../../core/secrets.ts";
import type { SecretRef } from "../../core/spec-schema.ts";
import { certificateSha256 } from "./trust.ts";
import "./codes.ts";

interface SigningSettings {
  key: SecretRef;
  certificate: string;
  password?: SecretRef | undefined;
}

export interface Signer {
  /** The key as unencrypted PKCS#8 PEM: kept in memory, piped to sbsign. */
  keyPem: string;
  certificatePath: string;
  /** The certificate as PEM, whatever form the file has: sbsign reads PEM only. */
  certificatePem: string;
  certificateSha256: string;
  /** The certificate's subject, one-line (`/CN=...`), as sbverify prints it. */
  subject: string;
}

export async function loadSigner(
  s: SigningSettings,
  specDir: string,
  redactor: Redactor,
  where: string,
): Promise<Signer> {
  const keyText = await resolveSecret(s.key, specDir, redactor, `${where}.key`);
  const password = s.password ? await resolveSecret(s.password, specDir, redactor, `${where}.password`) : undefined;
  let key: KeyObject;
  try {
    key = createPrivateKey({
      key: keyText,
      format: "pem",
      ...(password !== undefined ? { passphrase: password } : {}),
    });
  } catch {
    // OpenSSL's message may quote the input: say only what went wrong.
    const from = "file" in s.key ? resolve(specDir, s.key.file) : `environment variable ${s.key.env}`;
    throw new BootmediaError(
      "BM3707",
      `cannot read the signing key: not a PEM private key${password === undefined ? ", or encrypted and no password given" : ", or the password is wrong"}`,
      { where: from },
    );
  }
  const certificatePath = resolve(specDir, s.certificate);
  let cert: X509Certificate;
  const bytes = await readInputBytes(certificatePath, {
    label: "the signing certificate",
    maxBytes: LIMITS.secretBytes,
    code: "BM3707",
  });
  try {
    cert = new X509Certificate(bytes);
  } catch (e) {
    throw new BootmediaError(
      "BM3707",
      `the signing certificate ${s.certificate} is not a certificate (PEM or DER): ${(e as Error).message}`,
      { where: certificatePath, cause: e },
    );
  }
  // Named as formats/pe names signers, so the subject reads the same in logs, inspect and sbverify.
  const subject = certificateSubject(cert.raw) ?? cert.subject;
  if (!cert.checkPrivateKey(key)) {
    throw new BootmediaError(
      "BM3708",
      `the certificate ${s.certificate} (${subject}) does not belong to the signing key`,
      { where: certificatePath },
    );
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new BootmediaError(
      "BM3708",
      `the signing key is ${key.asymmetricKeyType}; UEFI firmware and shim verify RSA signatures only`,
      { where: certificatePath },
    );
  }
  const keyPem = key.export({ type: "pkcs8", format: "pem" }).toString();
  redactor.add(keyPem.trim());
  return {
    keyPem,
    certificatePath,
    certificatePem: cert.toString(),
    certificateSha256: certificateSha256(bytes),
    subject,
  };
}
