/**
 * DSSE envelopes (github.com/secure-systems-lab/dsse, protocol v1): the signature covers the
 * pre-authentication encoding PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP
 * body, never the JSON around it. Keys: Ed25519 or ECDSA P-256 (signature DER, SHA-256), PEM,
 * through node:crypto. A signing key arrives by reference, as every secret (core/secrets.ts);
 * its text is never printed, and an error about it never quotes it.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { BootmediaError } from "../../base/errors.ts";
import { resolveSecret, type Redactor } from "../secrets.ts";
import type { SecretRef } from "../spec-schema.ts";
import { readInputFile } from "../limits.ts";
import "./codes.ts";

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface DsseEnvelope {
  payloadType: string;
  /** Base64 of the payload's bytes. */
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** The bytes a DSSE signature covers. */
function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, "utf8"),
    type,
    Buffer.from(` ${payload.length} `, "utf8"),
    payload,
  ]);
}

/** A key's id: sha256 (hex) of its public key's SubjectPublicKeyInfo (DER). */
function keyIdOf(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return createHash("sha256")
    .update(pub.export({ type: "spki", format: "der" }))
    .digest("hex");
}

/** Ed25519, or ECDSA on P-256; anything else is refused by the caller with its code. */
function supported(key: KeyObject): boolean {
  if (key.asymmetricKeyType === "ed25519") return true;
  return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
}

const algorithmOf = (key: KeyObject) => (key.asymmetricKeyType === "ed25519" ? null : "sha256");

export interface SigningKey {
  key: KeyObject;
  keyid: string;
  /** Where it came from, for logs ("env ATTEST_KEY", "file keys/attest.key"): never the key. */
  from: string;
}

/** The signing key a reference names (`{ file }` or `{ env }` holding PEM). */
export async function loadSigningKey(
  ref: SecretRef,
  baseDir: string,
  redactor: Redactor,
  where: string,
): Promise<SigningKey> {
  const pem = await resolveSecret(ref, baseDir, redactor, where);
  const from = "env" in ref ? `env ${ref.env}` : `file ${ref.file}`;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch (e) {
    // node's message says what is wrong with the PEM, never what it holds.
    const why = (e as { code?: string }).code ?? "not a PEM private key";
    throw new BootmediaError(
      "BM6001",
      `${where}: the key from ${from} is not an unencrypted PEM private key (${why})`,
      {
        where,
      },
    );
  }
  if (!supported(key))
    throw new BootmediaError(
      "BM6001",
      `${where}: the key from ${from} is ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` (${key.asymmetricKeyDetails.namedCurve})` : ""}; attestations are signed with Ed25519 or ECDSA P-256`,
      { where },
    );
  return { key, keyid: keyIdOf(key), from };
}

/** A PEM public key file (`bootmedia verify --key`). */
export async function loadVerifyKey(path: string): Promise<KeyObject> {
  const pem = await readInputFile(path, { label: "verification key", maxBytes: 64 * 1024, code: "BM6002" });
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: "pem" });
  } catch (e) {
    throw new BootmediaError(
      "BM6002",
      `${path} is not a PEM public key (${(e as { code?: string }).code ?? "unreadable"})`,
      { where: path },
    );
  }
  if (!supported(key))
    throw new BootmediaError("BM6002", `${path} is a ${key.asymmetricKeyType} key; Ed25519 or ECDSA P-256 expected`, {
      where: path,
    });
  return key;
}

/** Signs `payload` into an envelope. */
export function signEnvelope(payloadType: string, payload: Buffer, signer: SigningKey): DsseEnvelope {
  const sig = sign(algorithmOf(signer.key), pae(payloadType, payload), signer.key);
  return {
    payloadType,
    payload: payload.toString("base64"),
    signatures: [{ keyid: signer.keyid, sig: sig.toString("base64") }],
  };
}

/** True when one of the envelope's signatures verifies with `key` over PAE(type, payload). */
export function envelopeVerifies(envelope: DsseEnvelope, key: KeyObject): boolean {
  const message = pae(envelope.payloadType, Buffer.from(envelope.payload, "base64"));
  return envelope.signatures.some((s) => {
    try {
      return verify(algorithmOf(key), message, key, Buffer.from(s.sig, "base64"));
    } catch {
      return false;
    }
  });
}
