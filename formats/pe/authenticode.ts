/**
 * Authenticode signatures (Microsoft "Windows Authenticode Portable Executable Signature
 * Format"): each WIN_CERTIFICATE of type PKCS_SIGNED_DATA holds a DER PKCS#7 ContentInfo
 * (RFC 2315) whose SignedData carries the signer's certificate chain. This reads who signed;
 * it does not verify the signature (the firmware and shim do, and `sbverify` in tests).
 */
import { createHash } from "node:crypto";
import * as asn1js from "asn1js";
import { Certificate, ContentInfo, IssuerAndSerialNumber, SignedData, type RelativeDistinguishedNames } from "pkijs";

interface AuthenticodeSigner {
  /** The signing certificate's subject, OpenSSL one-line style (`/C=US/O=.../CN=...`), as sbverify prints it. */
  subject: string;
  issuer: string;
  /** SHA-256 (hex) of the signing certificate's DER encoding, when the signature carries it. */
  certificateSha256?: string;
  /** Subjects of every certificate the signature carries (the chain towards its root). */
  chain: string[];
}

/** Short names for the attribute types found in UEFI signing certificates (RFC 4519 §2). */
const ATTRIBUTE_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.5": "serialNumber",
  "1.2.840.113549.1.9.1": "emailAddress",
};

/** OpenSSL's one-line form of a distinguished name. */
function formatName(name: RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map(
      (tv) =>
        `/${ATTRIBUTE_NAMES[tv.type] ?? tv.type}=${String((tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value ?? "")}`,
    )
    .join("");
}

/** A DER certificate's subject in the one-line form signers are named in (formatName); null if `der` is no certificate. */
export function certificateSubject(der: Uint8Array): string | null {
  const asn = asn1js.fromBER(der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer);
  if (asn.offset === -1) return null;
  try {
    return formatName(new Certificate({ schema: asn.result }).subject);
  } catch {
    return null;
  }
}

const OID_SIGNED_DATA = "1.2.840.113549.1.7.2";

/** Signers of one PKCS#7 SignedData blob; null when the blob is not one (damaged or another type). */
export function readAuthenticode(der: Uint8Array): AuthenticodeSigner[] | null {
  // A WIN_CERTIFICATE may carry padding after the DER: asn1js reads the first element only.
  const asn = asn1js.fromBER(der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer);
  if (asn.offset === -1) return null;
  try {
    const info = new ContentInfo({ schema: asn.result });
    if (info.contentType !== OID_SIGNED_DATA) return null;
    const signed = new SignedData({ schema: info.content });
    const certs = (signed.certificates ?? []).filter((c): c is Certificate => c instanceof Certificate);
    const chain = certs.map((c) => formatName(c.subject));
    return signed.signerInfos.map((si) => {
      const sid = si.sid;
      const cert =
        sid instanceof IssuerAndSerialNumber
          ? certs.find((c) => c.serialNumber.isEqual(sid.serialNumber) && c.issuer.isEqual(sid.issuer))
          : undefined;
      const issuer = sid instanceof IssuerAndSerialNumber ? formatName(sid.issuer) : "";
      if (!cert) return { subject: `(certificate not carried; issuer ${issuer})`, issuer, chain };
      const der = new Uint8Array(cert.toSchema().toBER(false));
      return {
        subject: formatName(cert.subject),
        issuer,
        chain,
        certificateSha256: createHash("sha256").update(der).digest("hex"),
      };
    });
  } catch {
    return null;
  }
}
