/**
 * The password-based encryption that PKCS#12 files still use but WebCrypto (and so pkijs)
 * does not offer: the PKCS#12 PBE schemes of RFC 7292 Appendix C (SHA-1 key derivation
 * with 3-key 3DES-CBC, RC2-128-CBC or RC2-40-CBC — what `openssl pkcs12 -legacy` and
 * Windows certificate exports write) and PBES2 with DES-EDE3-CBC (RFC 8018 §6.2).
 *
 * Hand-written here, and why:
 * - the PKCS#12 key derivation (RFC 7292 Appendix B.2): node:crypto does not expose it, and
 *   pkijs implements it only for its MAC check (purpose ID 3, not exported), not for the key
 *   and IV (IDs 1, 2) these schemes need;
 * - RC2 (rc2.ts): OpenSSL 3 keeps it in its legacy provider, which node loads only when the
 *   whole process starts with --openssl-legacy-provider (createDecipheriv("rc2-40-cbc")
 *   fails with ERR_OSSL_EVP_UNSUPPORTED otherwise; tested on node 20 / OpenSSL 3.0).
 * 3DES itself and PBKDF2 come from node:crypto; parsing stays with asn1js/pkijs.
 */
import { createDecipheriv, createHash, pbkdf2Sync } from "node:crypto";
import * as asn1js from "asn1js";
import { PBKDF2Params, type AlgorithmIdentifier, type PBES2Params } from "pkijs";
import { BootmediaError } from "../../base/errors.ts";
import { decryptRc2Cbc } from "./rc2.ts";
import "./codes.ts";

/** RFC 7292 Appendix C: the PKCS#12 PBE object identifiers (pkcs-12PbeIds) we read. */
export const PKCS12_PBE = {
  "1.2.840.113549.1.12.1.3": { name: "PBE-SHA1-3DES", cipher: "des-ede3-cbc", keyBytes: 24 },
  "1.2.840.113549.1.12.1.5": { name: "PBE-SHA1-RC2-128", cipher: "rc2", keyBytes: 16 },
  "1.2.840.113549.1.12.1.6": { name: "PBE-SHA1-RC2-40", cipher: "rc2", keyBytes: 5 },
} as const satisfies Record<string, { name: string; cipher: "des-ede3-cbc" | "rc2"; keyBytes: number }>;

type Pkcs12PbeOid = keyof typeof PKCS12_PBE;
export const isPkcs12Pbe = (oid: string): oid is Pkcs12PbeOid => oid in PKCS12_PBE;

export const OID = {
  pbkdf2: "1.2.840.113549.1.5.12",
  desEde3Cbc: "1.2.840.113549.3.7",
  hmacWithSha1: "1.2.840.113549.2.7",
} as const;

/** RFC 8018 Appendix B.1.2: PBKDF2 PRFs by OID, as node digest names. */
const PBKDF2_PRF_DIGEST: Record<string, string> = {
  [OID.hmacWithSha1]: "sha1",
  "1.2.840.113549.2.9": "sha256",
  "1.2.840.113549.2.10": "sha384",
  "1.2.840.113549.2.11": "sha512",
};

/** RFC 7292 Appendix B.3: purpose IDs of the PKCS#12 key derivation. */
const PURPOSE = { KEY: 1, IV: 2 } as const;
/** SHA-1: output u and block v bytes (RFC 7292 B.2 notation). */
const SHA1 = { u: 20, v: 64 } as const;

/** RFC 7292 B.1: the password as a BMPString (UTF-16 big-endian) with a 2-byte NUL terminator. */
function encodeBmpPassword(password: string): Buffer {
  return Buffer.from(password + "\0", "utf16le").swap16();
}

/** RFC 7292 B.2 with SHA-1: `n` bytes of key material for purpose `id`. */
export function derivePkcs12Key(password: string, salt: Uint8Array, iterations: number, id: number, n: number): Buffer {
  const { u, v } = SHA1;
  const repeatToBlocks = (src: Uint8Array) => {
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const I = Buffer.concat([repeatToBlocks(salt), repeatToBlocks(encodeBmpPassword(password))]);
  const D = Buffer.alloc(v, id);
  const out: Buffer[] = [];
  for (let got = 0; got < n; got += u) {
    let A = createHash("sha1").update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash("sha1").update(A).digest();
    out.push(A);
    const B = repeatToBlocks(A);
    // B.2 step 6C: I_j = (I_j + B + 1) mod 2^(8v), each v-byte block a big-endian integer.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}

/** RFC 7292 Appendix C: pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER } */
const PBE_PARAMS_SCHEMA = new asn1js.Sequence({
  value: [new asn1js.OctetString({ name: "salt" }), new asn1js.Integer({ name: "iterations" })],
});

/** Decrypts `data` protected with a PKCS#12 PBE scheme (`alg` is its AlgorithmIdentifier). */
export function decryptPkcs12Pbe(alg: AlgorithmIdentifier, password: string, data: Buffer): Buffer {
  const scheme = PKCS12_PBE[alg.algorithmId as Pkcs12PbeOid];
  if (!scheme)
    throw new BootmediaError(
      "BM3413",
      `encryption scheme ${alg.algorithmId} is not supported (RC4 and 2-key 3DES PKCS#12 schemes are not)`,
    );
  const params = asn1js.compareSchema(alg.algorithmParams, alg.algorithmParams, PBE_PARAMS_SCHEMA);
  if (!params.verified) throw new TypeError(`malformed ${scheme.name} parameters`);
  const salt = (params.result.salt as asn1js.OctetString).valueBlock.valueHexView;
  const iterations = (params.result.iterations as asn1js.Integer).valueBlock.valueDec;
  const key = derivePkcs12Key(password, salt, iterations, PURPOSE.KEY, scheme.keyBytes);
  const iv = derivePkcs12Key(password, salt, iterations, PURPOSE.IV, 8);
  if (scheme.cipher === "rc2") return decryptRc2Cbc(key, scheme.keyBytes * 8, iv, data);
  return decipher(scheme.cipher, key, iv, data);
}

/** RFC 8018 §6.2 PBES2 with PBKDF2 and DES-EDE3-CBC (RFC 8018 B.2.2), which WebCrypto lacks. */
export function decryptPbes2TripleDes(pbes2: PBES2Params, password: string, data: Buffer): Buffer {
  const kdf = new PBKDF2Params({ schema: pbes2.keyDerivationFunc.algorithmParams });
  const digest = pbkdf2Digest(kdf);
  const salt = (kdf.salt as asn1js.OctetString).valueBlock.valueHexView;
  const iv = (pbes2.encryptionScheme.algorithmParams as asn1js.OctetString).valueBlock.valueHexView;
  // RFC 8018 leaves the password encoding open; OpenSSL and Windows use its UTF-8 bytes.
  const key = pbkdf2Sync(Buffer.from(password, "utf8"), salt, kdf.iterationCount, 24, digest);
  return decipher("des-ede3-cbc", key, iv, data);
}

/** The PBKDF2 PRF as a node digest name (RFC 8018 A.2: default hmacWithSHA1); others are BM3413. */
export function pbkdf2Digest(kdf: PBKDF2Params): string {
  const prfOid = kdf.prf?.algorithmId ?? OID.hmacWithSha1;
  const digest = PBKDF2_PRF_DIGEST[prfOid];
  if (!digest) throw new BootmediaError("BM3413", `PBKDF2 PRF ${prfOid} is not supported`);
  return digest;
}

function decipher(name: string, key: Uint8Array, iv: Uint8Array, data: Buffer): Buffer {
  const d = createDecipheriv(name, key, iv);
  return Buffer.concat([d.update(data), d.final()]);
}
