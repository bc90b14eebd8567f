/**
 * How the simulator authenticates media: self-signed media sign the body with the media key
 * (HTTP), PKI media present their client certificate in the TLS handshake (HTTPS, mutual TLS).
 * Both end in one verdict, `null` (accepted) or a CertRejection, judged at the MP's clock.
 */
import { X509Certificate, createVerify, type KeyObject } from "node:crypto";
import { findRegisteredCertificate, type Site } from "./site.ts";
import type { CertRejection } from "./protocol.ts";

/** RFC 5280 §4.2.1.12 id-kp-clientAuth. */
const CLIENT_AUTH_EKU = "1.3.6.1.5.5.7.3.2";

interface SignedRequest {
  body: Buffer;
  /** base64 DER ECDSA signature, as `openssl dgst -sha256 -sign key.pem | base64 -w0` prints it. */
  signature?: string;
  certificateSha256?: string;
}

/** Self-signed mode: the certificate must be registered at the site, unblocked, in date, and have signed the body. */
export function checkSignedRequest(site: Site, req: SignedRequest, nowSec: number): CertRejection | null {
  if (!req.signature || !req.certificateSha256) return "missing-signature";
  const registered = findRegisteredCertificate(site, req.certificateSha256);
  if (!registered) return "unregistered";
  if (registered.blocked) return "blocked";
  const verifier = createVerify("sha256").update(req.body);
  // DER ECDSA-Sig-Value (RFC 3279 §2.2.3): what openssl dgst -sign writes and node verifies by default.
  if (!verifier.verify(factsOf(registered.cert).publicKey, Buffer.from(req.signature, "base64")))
    return "bad-signature";
  return checkValidity(registered.cert, nowSec);
}

/** PKI mode: the TLS client certificate must chain to one of the site's CAs, carry clientAuth and be in date. */
export function checkClientCertificate(
  peerDer: Buffer | undefined,
  cas: readonly X509Certificate[],
  nowSec: number,
): CertRejection | null {
  if (!peerDer || peerDer.length === 0) return "missing-certificate";
  const leaf = new X509Certificate(peerDer);
  const issuer = cas.find((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  if (!issuer) return "untrusted";
  const eku = leaf.keyUsage;
  if (eku !== undefined && !eku.includes(CLIENT_AUTH_EKU)) return "untrusted";
  return checkValidity(leaf, nowSec) ?? checkValidity(issuer, nowSec);
}

/** What every request asks of a registered certificate, read once: each getter parses the DER again. */
const facts = new WeakMap<X509Certificate, { publicKey: KeyObject; from: number; to: number }>();
function factsOf(cert: X509Certificate): { publicKey: KeyObject; from: number; to: number } {
  let f = facts.get(cert);
  if (!f) {
    f = { publicKey: cert.publicKey, from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) };
    facts.set(cert, f);
  }
  return f;
}

/** RFC 5280 §4.1.2.5: valid from notBefore to notAfter, both inclusive. */
function checkValidity(cert: X509Certificate, nowSec: number): CertRejection | null {
  const now = nowSec * 1000;
  const { from, to } = factsOf(cert);
  if (now < from) return "not-yet-valid";
  if (now > to) return "expired";
  return null;
}
