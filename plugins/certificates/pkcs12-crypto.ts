/**
 * The password-based algorithms of PKCS#12 files (RFC 7292) and PKCS#5 (RFC 8018):
 * the PKCS#12 key derivation (RFC 7292 Appendix B.2), the PKCS#12 PBE schemes (3DES,
 * RC2) and PBES2 (PBKDF2 + AES/3DES-CBC). Unsupported schemes are BM3413.
 */
import { createDecipheriv, createHash, pbkdf2Sync } from "node:crypto";
import { child, integer, octets, oid, TAG, type DerNode } from "./der.ts";
import { decryptRc2Cbc } from "./rc2.ts";
import { settingsError } from "../password/settings-codes.ts";

export const OID = {
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  pbeSha1_3des: "1.2.840.113549.1.12.1.3",
  pbeSha1_rc2_128: "1.2.840.113549.1.12.1.5",
  pbeSha1_rc2_40: "1.2.840.113549.1.12.1.6",
  aes128cbc: "2.16.840.1.101.3.4.1.2",
  aes192cbc: "2.16.840.1.101.3.4.1.22",
  aes256cbc: "2.16.840.1.101.3.4.1.42",
  desEde3cbc: "1.2.840.113549.3.7",
} as const;

/** Digests by OID, as AlgorithmIdentifier (MAC) or PRF (PBKDF2): name, output u and block v bytes. */
export const DIGESTS: Record<string, { name: string; u: number; v: number }> = {
  "1.3.14.3.2.26": { name: "sha1", u: 20, v: 64 },
  "2.16.840.1.101.3.4.2.1": { name: "sha256", u: 32, v: 64 },
  "2.16.840.1.101.3.4.2.2": { name: "sha384", u: 48, v: 128 },
  "2.16.840.1.101.3.4.2.3": { name: "sha512", u: 64, v: 128 },
  "1.2.840.113549.2.7": { name: "sha1", u: 20, v: 64 }, // hmacWithSHA1
  "1.2.840.113549.2.9": { name: "sha256", u: 32, v: 64 }, // hmacWithSHA256
  "1.2.840.113549.2.10": { name: "sha384", u: 48, v: 128 },
  "1.2.840.113549.2.11": { name: "sha512", u: 64, v: 128 },
};

/** RFC 7292 B.2 purpose ids. */
export const PKCS12_ID = { KEY: 1, IV: 2, MAC: 3 } as const;

/** RFC 7292 B.1: the password as a BMPString (UTF-16 big-endian) with a 2-byte NUL terminator. */
export function bmpPassword(password: string): Buffer {
  const le = Buffer.from(password + "\0", "utf16le");
  return le.swap16();
}

/** RFC 7292 B.2: the PKCS#12 key derivation function. */
export function pkcs12Kdf(digestOid: string, password: string, salt: Buffer, iterations: number, id: number, n: number): Buffer {
  const d = DIGESTS[digestOid];
  if (!d) throw settingsError("BM3413", `PKCS#12 digest ${digestOid} is not supported`);
  const { name, u, v } = d;
  const fill = (src: Buffer) => {
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const P = bmpPassword(password);
  const I = Buffer.concat([salt.length ? fill(salt) : Buffer.alloc(0), fill(P)]);
  const D = Buffer.alloc(v, id);
  const out: Buffer[] = [];
  for (let got = 0; got < n; got += u) {
    let A = createHash(name).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(name).update(A).digest();
    out.push(A);
    const B = fill(A);
    // I_j = (I_j + B + 1) mod 2^(8v), each v-byte block as a big-endian integer.
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

/** Decrypts `data` with the password-based scheme `alg` (an AlgorithmIdentifier node). */
export function decryptPasswordBased(alg: DerNode, password: string, data: Buffer): Buffer {
  const algOid = oid(child(alg, 0, TAG.OID));
  const params = alg.children[1];
  if (algOid === OID.pbes2 && params) return decryptPbes2(params, password, data);
  const pbe = { [OID.pbeSha1_3des]: { cipher: "des-ede3-cbc", keyLen: 24 }, [OID.pbeSha1_rc2_128]: { cipher: "rc2", keyLen: 16 }, [OID.pbeSha1_rc2_40]: { cipher: "rc2", keyLen: 5 } }[algOid];
  if (!pbe || !params) throw settingsError("BM3413", `encryption scheme ${algOid} is not supported (RC4 and 2-key 3DES PKCS#12 schemes are not)`);
  // RFC 7292 Appendix C: pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
  const salt = octets(child(params, 0, TAG.OCTET_STRING));
  const iterations = integer(child(params, 1, TAG.INTEGER));
  const sha1 = "1.3.14.3.2.26";
  const key = pkcs12Kdf(sha1, password, salt, iterations, PKCS12_ID.KEY, pbe.keyLen);
  const iv = pkcs12Kdf(sha1, password, salt, iterations, PKCS12_ID.IV, 8);
  if (pbe.cipher === "rc2") return decryptRc2Cbc(key, pbe.keyLen * 8, iv, data);
  return decipher(pbe.cipher, key, iv, data);
}

/** RFC 8018 §6.2 / A.4: PBES2-params { keyDerivationFunc (PBKDF2), encryptionScheme }. */
function decryptPbes2(params: DerNode, password: string, data: Buffer): Buffer {
  const kdf = child(params, 0, TAG.SEQUENCE);
  const scheme = child(params, 1, TAG.SEQUENCE);
  if (oid(child(kdf, 0, TAG.OID)) !== OID.pbkdf2) throw settingsError("BM3413", "PBES2 with a key derivation other than PBKDF2 is not supported");
  // RFC 8018 A.2: PBKDF2-params { salt, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1 }
  const kp = child(kdf, 1, TAG.SEQUENCE);
  const salt = octets(child(kp, 0, TAG.OCTET_STRING));
  const iterations = integer(child(kp, 1, TAG.INTEGER));
  const prfNode = kp.children.find((c) => c.tag === TAG.SEQUENCE);
  const prfOid = prfNode ? oid(child(prfNode, 0, TAG.OID)) : "1.2.840.113549.2.7";
  const prf = DIGESTS[prfOid];
  if (!prf) throw settingsError("BM3413", `PBKDF2 PRF ${prfOid} is not supported`);
  const schemeOid = oid(child(scheme, 0, TAG.OID));
  const cipher = { [OID.aes128cbc]: ["aes-128-cbc", 16], [OID.aes192cbc]: ["aes-192-cbc", 24], [OID.aes256cbc]: ["aes-256-cbc", 32], [OID.desEde3cbc]: ["des-ede3-cbc", 24] }[schemeOid] as [string, number] | undefined;
  if (!cipher) throw settingsError("BM3413", `PBES2 encryption scheme ${schemeOid} is not supported`);
  const iv = octets(child(scheme, 1, TAG.OCTET_STRING));
  // RFC 8018 leaves the password encoding open; OpenSSL and Windows use its UTF-8 bytes.
  const key = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, cipher[1], prf.name);
  return decipher(cipher[0], key, iv, data);
}

function decipher(name: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const d = createDecipheriv(name, key, iv);
  return Buffer.concat([d.update(data), d.final()]);
}
