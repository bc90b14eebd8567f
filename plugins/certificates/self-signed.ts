/**
 * The self-signed media certificate (RFC 5280), made with @peculiar/x509 and node's
 * WebCrypto: ECDSA P-256 / SHA-256, basicConstraints CA:FALSE, digitalSignature key usage
 * and the client-authentication extended key usage (the management point authenticates the
 * booted machine with it). The serial derives from public facts (media id, epoch); the key
 * pair is random — a key derived from anything reproducible would be guessable — so media
 * with a self-signed certificate are reproducible except the key, the signature and the
 * secret part that carries the key.
 */
import { createHash } from "node:crypto";
import { webcrypto, x509 } from "./x509.ts";

export const SELF_SIGNED = {
  CURVE: "P-256",
  CLIENT_AUTH: x509.ExtendedKeyUsage.clientAuth,
} as const;

/** ECDSA over P-256 signing with SHA-256 (RFC 5758 §3.2 ecdsa-with-SHA256). */
const ALGORITHM = { name: "ECDSA", namedCurve: SELF_SIGNED.CURVE, hash: "SHA-256" } as const;

export interface CertificateMaterial {
  /** Leaf first, then its chain (DER). */
  chain: Buffer[];
  /** PKCS#8 DER of the leaf's private key. */
  privateKey: Buffer;
}

/** RFC 5280 §4.1.2.2: positive, at most 20 octets; derived from public facts so rebuilds agree. */
function deriveSerialNumber(mediaId: string, sourceDateEpoch: number): string {
  const serial = createHash("sha256")
    .update(`bootmedia-media-cert\0${mediaId}\0${sourceDateEpoch}`)
    .digest()
    .subarray(0, 16);
  serial[0]! &= 0x7f; // the high bit would make the DER INTEGER negative
  return serial.toString("hex");
}

export async function createSelfSignedCertificate(opts: {
  mediaId: string;
  notBefore: Date;
  notAfter: Date;
  sourceDateEpoch: number;
}): Promise<CertificateMaterial> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: deriveSerialNumber(opts.mediaId, opts.sourceDateEpoch),
    name: [{ CN: [`bootmedia media ${opts.mediaId}`] }, { O: ["bootmedia"] }],
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([SELF_SIGNED.CLIENT_AUTH]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { chain: [Buffer.from(cert.rawData)], privateKey: Buffer.from(pkcs8) };
}

/** RFC 7468 textual encoding, one block ending in a newline so blocks concatenate into a chain file. */
export function toPem(label: "CERTIFICATE" | "PRIVATE KEY", der: Buffer): string {
  return `${x509.PemConverter.encode(new Uint8Array(der), label)}\n`;
}
