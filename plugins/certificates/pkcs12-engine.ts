/**
 * The pkijs crypto engine we parse .pfx files with: pkijs's own CryptoEngine (node's
 * WebCrypto underneath) for what WebCrypto offers — the PKCS#12 MAC and PBES2 with
 * PBKDF2 + AES-CBC — extended, the way the pkijs maintainers advise for PKCS#12 (their
 * NodePKCS12Example; PKI.js issues #101, #227), with the legacy schemes of legacy-pbe.ts.
 * Every scheme outside both is BM3413.
 */
import { webcrypto } from "node:crypto";
import {
  CryptoEngine,
  PBES2Params,
  PBKDF2Params,
  type AlgorithmIdentifier,
  type CryptoEngineDecryptParams,
} from "pkijs";
import { BootmediaError } from "../../base/errors.ts";
import { decryptPbes2TripleDes, decryptPkcs12Pbe, isPkcs12Pbe, OID, pbkdf2Digest, PKCS12_PBE } from "./legacy-pbe.ts";
import "./codes.ts";

const PBES2_OID = "1.2.840.113549.1.5.13";

/** RFC 8018 B.2.5 / NIST: the AES-CBC encryption schemes pkijs decrypts through WebCrypto. */
const AES_CBC = new Set(["2.16.840.1.101.3.4.1.2", "2.16.840.1.101.3.4.1.22", "2.16.840.1.101.3.4.1.42"]);
/** The MAC digests RFC 7292 §5 / OpenSSL use with the PKCS#12 key derivation (WebCrypto names). */
export const MAC_DIGESTS = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as const;

export class Pkcs12Engine extends CryptoEngine {
  /** The schemes decrypted so far, in order (for the build log). */
  readonly schemesUsed: string[] = [];

  constructor() {
    super({ name: "bootmedia-pkcs12", crypto: webcrypto as unknown as Crypto });
  }

  override async decryptEncryptedContentInfo(params: CryptoEngineDecryptParams): Promise<ArrayBuffer> {
    const alg = params.encryptedContentInfo.contentEncryptionAlgorithm;
    this.schemesUsed.push(describeAlgorithm(alg));
    const password = new TextDecoder().decode(params.password);
    const data = () => Buffer.from(params.encryptedContentInfo.getEncryptedContent());
    if (isPkcs12Pbe(alg.algorithmId)) return new Uint8Array(decryptPkcs12Pbe(alg, password, data())).buffer;
    if (alg.algorithmId !== PBES2_OID)
      throw new BootmediaError(
        "BM3413",
        `encryption scheme ${alg.algorithmId} is not supported (RC4 and 2-key 3DES PKCS#12 schemes are not)`,
      );
    const pbes2 = new PBES2Params({ schema: alg.algorithmParams });
    if (pbes2.keyDerivationFunc.algorithmId !== OID.pbkdf2)
      throw new BootmediaError("BM3413", "PBES2 with a key derivation other than PBKDF2 is not supported");
    pbkdf2Digest(new PBKDF2Params({ schema: pbes2.keyDerivationFunc.algorithmParams })); // BM3413 for an unknown PRF
    const scheme = pbes2.encryptionScheme.algorithmId;
    if (scheme === OID.desEde3Cbc) return new Uint8Array(decryptPbes2TripleDes(pbes2, password, data())).buffer;
    if (!AES_CBC.has(scheme)) throw new BootmediaError("BM3413", `PBES2 encryption scheme ${scheme} is not supported`);
    return super.decryptEncryptedContentInfo(params);
  }
}

/** A short name of a password-based scheme for the build log (RFC 7292 / RFC 8018 names). */
export function describeAlgorithm(alg: AlgorithmIdentifier): string {
  if (alg.algorithmId === PBES2_OID) return "PBES2";
  return isPkcs12Pbe(alg.algorithmId) ? PKCS12_PBE[alg.algorithmId].name : alg.algorithmId;
}
