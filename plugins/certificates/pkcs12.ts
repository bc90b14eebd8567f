/**
 * Reads a PKCS#12 (.pfx/.p12) file (RFC 7292) with pkijs: checks the password-based MAC,
 * decrypts the encrypted safe contents and shrouded keys (through pkcs12-engine.ts), and
 * returns the certificates and private keys (DER). Supported: OpenSSL 3 defaults
 * (PBES2/PBKDF2/AES-CBC, HMAC-SHA256 MAC) and -legacy files (SHA-1 PBE with 3DES and
 * RC2-40/128, HMAC-SHA1 MAC). Not supported (BM3413): RC4 and 2-key-3DES PBE, PBMAC1,
 * public-key integrity/privacy modes.
 */
import * as asn1js from "asn1js";
import {
  AsnError,
  CertBag,
  ContentInfo,
  EncryptedContentInfo,
  EncryptedData,
  id_CertBag_X509Certificate,
  PFX,
  PKCS8ShroudedKeyBag,
  PrivateKeyInfo,
  type SafeContents,
} from "pkijs";
import { BootmediaError } from "../../base/errors.ts";
import { describeAlgorithm, MAC_DIGESTS, Pkcs12Engine } from "./pkcs12-engine.ts";
import "./codes.ts";

/** RFC 7292 §4.2: the SafeBag types we take (others — CRL, secret, nested — are not needed). */
const BAG = {
  keyBag: "1.2.840.113549.1.12.10.1.1",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
} as const;

export interface PfxContents {
  certificates: Buffer[];
  privateKeys: Buffer[];
  /** How it was protected, for the build log. */
  protection: string[];
}

/** The file is not PKCS#12 at all (as opposed to a wrong password or an unsupported scheme). */
class NotPkcs12Error extends Error {}

/** Parses and decrypts `file`; any structural, password or algorithm problem is a coded error. */
export async function readPfx(file: Buffer, password: string, where: string): Promise<PfxContents> {
  try {
    return await readPfxUnchecked(file, password);
  } catch (e) {
    if (e instanceof BootmediaError) throw Object.assign(e, { where: e.where ?? where });
    if (e instanceof NotPkcs12Error || e instanceof AsnError)
      throw new BootmediaError("BM3408", `${where}: not a PKCS#12 file (${e.message})`, { where });
    // A bad padding or key error after a missing MAC means the password is wrong.
    throw new BootmediaError("BM3408", `${where}: cannot decrypt the .pfx: wrong password?`, { where, cause: e });
  }
}

async function readPfxUnchecked(file: Buffer, password: string): Promise<PfxContents> {
  const engine = new Pkcs12Engine();
  // pkijs takes passwords as bytes: UTF-8, as OpenSSL and Windows use them for PBES2;
  // its MAC key derivation turns them into the BMPString RFC 7292 B.1 asks for.
  const secret = new Uint8Array(Buffer.from(password, "utf8")).buffer;
  // RFC 7292 §4: PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
  const pfx = PFX.fromBER(new Uint8Array(file).buffer);
  if (pfx.version !== 3) throw new NotPkcs12Error("PFX version is not 3");
  if (pfx.authSafe.contentType !== ContentInfo.DATA)
    throw new BootmediaError("BM3413", "public-key integrity mode (signed authSafe) is not supported");
  if (!(pfx.authSafe.content instanceof asn1js.OctetString))
    throw new NotPkcs12Error("the authSafe content is not an OCTET STRING");
  const out: PfxContents = { certificates: [], privateKeys: [], protection: [await checkMac(pfx, secret, engine)] };
  await pfx.parseInternalValues({ password: secret, checkIntegrity: false }, engine);
  const authSafe = pfx.parsedValue!.authenticatedSafe!;
  for (const ci of authSafe.safeContents) {
    const known = ci.contentType === ContentInfo.DATA || ci.contentType === ContentInfo.ENCRYPTED_DATA;
    if (!known) throw new BootmediaError("BM3413", `public-key privacy mode (${ci.contentType}) is not supported`);
  }
  await authSafe.parseInternalValues({ safeContents: authSafe.safeContents.map(() => ({ password: secret })) }, engine);
  // What decrypted the encrypted safe contents (OpenSSL and Windows put the certificates there).
  out.protection.push(...engine.schemesUsed.map((s) => `certificates: ${s}`));
  for (const { value } of authSafe.parsedValue!.safeContents) await collectBags(value, secret, engine, out);
  return out;
}

/** RFC 7292 §5.1: HMAC over the authSafe content with a key from the PKCS#12 KDF (done by pkijs). */
async function checkMac(pfx: PFX, secret: ArrayBuffer, engine: Pkcs12Engine): Promise<string> {
  if (!pfx.macData) return "no MAC";
  const { mac, macSalt, iterations = 1 } = pfx.macData;
  const digestOid = mac.digestAlgorithm.algorithmId;
  const digest = (engine.getAlgorithmByOID(digestOid) as { name?: string }).name;
  if (!MAC_DIGESTS.some((d) => d === digest))
    throw new BootmediaError("BM3413", `MAC digest ${digestOid} is not supported (PBMAC1 files are not)`);
  const ok = await engine.verifyDataStampedWithPassword({
    password: secret,
    hashAlgorithm: digest!,
    salt: new Uint8Array(macSalt.valueBlock.valueHexView).buffer,
    iterationCount: iterations,
    contentToVerify: (pfx.authSafe.content as asn1js.OctetString).getValue(),
    signatureToVerify: new Uint8Array(mac.digest.valueBlock.valueHexView).buffer,
  });
  if (!ok) throw new BootmediaError("BM3408", "the .pfx password is wrong (the file's integrity MAC does not match)");
  return `MAC HMAC-${digest!.replace("-", "")} (${iterations} iterations)`;
}

async function collectBags(
  safeContents: SafeContents,
  secret: ArrayBuffer,
  engine: Pkcs12Engine,
  out: PfxContents,
): Promise<void> {
  for (const bag of safeContents.safeBags) {
    if (bag.bagId === BAG.keyBag) out.privateKeys.push(encodePrivateKey(bag.bagValue as PrivateKeyInfo));
    else if (bag.bagId === BAG.shroudedKeyBag) {
      const shrouded = bag.bagValue as PKCS8ShroudedKeyBag;
      out.protection.push(`key: ${describeAlgorithm(shrouded.encryptionAlgorithm)}`);
      out.privateKeys.push(await decryptShroudedKey(shrouded, secret, engine));
    } else if (bag.bagId === BAG.certBag) {
      const { certId, certValue } = bag.bagValue as CertBag;
      // Only X.509 certificates are used; the DER is taken as stored, never re-encoded.
      if (certId === id_CertBag_X509Certificate && certValue instanceof asn1js.OctetString)
        out.certificates.push(Buffer.from(certValue.getValue()));
    }
  }
}

/** RFC 5208 §6 EncryptedPrivateKeyInfo: decrypted as CMS EncryptedData would be (pkijs's own route). */
async function decryptShroudedKey(
  bag: PKCS8ShroudedKeyBag,
  secret: ArrayBuffer,
  engine: Pkcs12Engine,
): Promise<Buffer> {
  const encrypted = new EncryptedData({
    encryptedContentInfo: new EncryptedContentInfo({
      contentEncryptionAlgorithm: bag.encryptionAlgorithm,
      encryptedContent: bag.encryptedData,
    }),
  });
  const der = Buffer.from(await encrypted.decrypt({ password: secret }, engine));
  // Without a MAC a wrong password can still pass the padding check: the result must be PKCS#8.
  try {
    PrivateKeyInfo.fromBER(new Uint8Array(der).buffer);
  } catch {
    throw new Error("the decrypted key is not PKCS#8");
  }
  return der;
}

/** RFC 5208 PrivateKeyInfo back to DER, as node's createPrivateKey(type pkcs8) reads it. */
function encodePrivateKey(info: PrivateKeyInfo): Buffer {
  return Buffer.from(info.toSchema().toBER(false));
}
