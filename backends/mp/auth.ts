/**
 * How the simulator authenticates media: self-signed media sign the body with the media key
 * (HTTP), PKI media present their client certificate in the TLS handshake (HTTPS, mutual TLS).
 * Status and log requests may instead be signed with a report key the client gave with its
 * policy request (the installed OS has no media key). All end in one verdict, `null`
 * (accepted) or a CertRejection, judged at the MP's clock.
 */
import { X509Certificate, createPublicKey, createVerify, type KeyObject } from "node:crypto";
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

/** What the MP knows of a report key: the parsed key and whether it came with a policy for (mac, deploymentId). */
export interface ReportKeyEntry {
  key: KeyObject;
  givenFor(mac: string, deploymentId: string): boolean;
}

/**
 * Report-key mode: the key (named by the hex SHA-256 of its DER SPKI) came with a policy this
 * MP gave the body's MAC for the body's deployment, and it signed the exact body.
 */
export function checkReportKeyRequest(
  lookup: (sha256: string) => ReportKeyEntry | undefined,
  req: SignedRequest & { reportKeySha256: string; mac: string; deploymentId: string },
): CertRejection | null {
  if (!req.signature) return "missing-signature";
  const entry = lookup(req.reportKeySha256.toLowerCase());
  if (!entry) return "unknown-report-key";
  // The signature first: a client without the private key learns nothing of where the key belongs.
  if (!createVerify("sha256").update(req.body).verify(entry.key, Buffer.from(req.signature, "base64")))
    return "bad-signature";
  return entry.givenFor(req.mac, req.deploymentId) ? null : "wrong-report-key";
}

/**
 * A policy request's `reportKey`: the base64 DER SubjectPublicKeyInfo of an EC P-256 key, in
 * the one encoding openssl writes (uncompressed point, nothing after the structure), or null.
 */
export function parseReportKey(base64: string): KeyObject | null {
  const der = Buffer.from(base64, "base64");
  try {
    const key = createPublicKey({ key: der, format: "der", type: "spki" });
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") return null;
    return key.export({ type: "spki", format: "der" }).equals(der) ? key : null;
  } catch {
    return null;
  }
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
