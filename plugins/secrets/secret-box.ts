/**
 * bootmedia/secrets.enc: the secret part of the media configuration, encrypted with a
 * key derived from the media password. Built only from primitives the OpenSSL 3 command
 * line has, so the boot environment opens it with `openssl kdf` (scrypt), `openssl dgst
 * -mac HMAC` and `openssl enc -aes-256-cbc` (agent/bootmedia-unlock.sh; `openssl enc`
 * has no GCM, hence encrypt-then-MAC).
 *
 *   key material = scrypt(password UTF-8, salt, N = 2^log2N, r, p, 64 bytes)   (RFC 7914)
 *   encKey = bytes 0..31, macKey = bytes 32..63
 *   iv     = HMAC-SHA256(macKey, "bootmedia-siv\0" || plaintext)[0..15]  (synthetic IV:
 *            deterministic for reproducible media, different whenever the plaintext is)
 *   body   = AES-256-CBC(encKey, iv, plaintext, PKCS#7 padding)          (NIST SP 800-38A)
 *   tag    = HMAC-SHA256(macKey, header || body)                          (RFC 2104)
 */
import { createCipheriv, createDecipheriv, createHmac, scryptSync, timingSafeEqual } from "node:crypto";
import { BootmediaError } from "../../base/errors.ts";
import "./codes.ts";

/** The file, as a field table (offsets in bytes). Integers are single bytes. */
export const SECRETS_FILE = {
  magic: { offset: 0, size: 8 },
  version: { offset: 8, size: 1 },
  kdf: { offset: 9, size: 1 },
  log2N: { offset: 10, size: 1 },
  r: { offset: 11, size: 1 },
  p: { offset: 12, size: 1 },
  reserved: { offset: 13, size: 3 },
  salt: { offset: 16, size: 32 },
  iv: { offset: 48, size: 16 },
  /** Followed by the AES-256-CBC body (a multiple of 16 bytes), then the 32-byte tag. */
  body: { offset: 64, size: 0 },
} as const;
export const SECRETS_HEADER_SIZE = SECRETS_FILE.body.offset;
export const SECRETS_TAG_SIZE = 32;
export const SECRETS_MAGIC = "BMSECRT1";
const SECRETS_VERSION = 1;
const KDF_IDS = { scrypt: 1 } as const;

/** scrypt N = 2^17, r = 8, p = 1: 128 MiB and ~0.4-0.8 s per guess (README has the figures). */
export const DEFAULT_KDF = { log2N: 17, r: 8, p: 1 } as const;
export type KdfParams = { log2N: number; r: number; p: number };
/** Refuse absurd parameters from a file before allocating memory for them. */
const MAX_LOG2N = 20;

const SIV_LABEL = Buffer.from("bootmedia-siv\0");

export function deriveSecretKeys(password: string, salt: Buffer, kdf: KdfParams): { encKey: Buffer; macKey: Buffer } {
  const N = 2 ** kdf.log2N;
  const key = scryptSync(Buffer.from(password, "utf8"), salt, 64, {
    N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 129 * kdf.r * N * kdf.p + 32 * 1024 * 1024,
  });
  return { encKey: key.subarray(0, 32), macKey: key.subarray(32, 64) };
}

function writeHeader(salt: Buffer, iv: Buffer, kdf: KdfParams): Buffer {
  const h = Buffer.alloc(SECRETS_HEADER_SIZE);
  h.write(SECRETS_MAGIC, SECRETS_FILE.magic.offset, "latin1");
  h[SECRETS_FILE.version.offset] = SECRETS_VERSION;
  h[SECRETS_FILE.kdf.offset] = KDF_IDS.scrypt;
  h[SECRETS_FILE.log2N.offset] = kdf.log2N;
  h[SECRETS_FILE.r.offset] = kdf.r;
  h[SECRETS_FILE.p.offset] = kdf.p;
  salt.copy(h, SECRETS_FILE.salt.offset, 0, SECRETS_FILE.salt.size);
  iv.copy(h, SECRETS_FILE.iv.offset, 0, SECRETS_FILE.iv.size);
  return h;
}

/** Encrypts `plaintext`; the same inputs give the same bytes (reproducible media). */
export function sealSecrets(plaintext: Buffer, password: string, salt: Buffer, kdf: KdfParams = DEFAULT_KDF): Buffer {
  if (salt.length !== SECRETS_FILE.salt.size) throw new Error(`secrets salt must be ${SECRETS_FILE.salt.size} bytes`);
  const { encKey, macKey } = deriveSecretKeys(password, salt, kdf);
  const iv = createHmac("sha256", macKey)
    .update(SIV_LABEL)
    .update(plaintext)
    .digest()
    .subarray(0, SECRETS_FILE.iv.size);
  const cipher = createCipheriv("aes-256-cbc", encKey, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const head = writeHeader(salt, iv, kdf);
  const tag = createHmac("sha256", macKey).update(head).update(body).digest();
  return Buffer.concat([head, body, tag]);
}

/** Reads the header fields (public: no password needed). */
export function readSecretsHeader(file: Buffer): { kdf: KdfParams; salt: Buffer; iv: Buffer } {
  const ok =
    file.length >= SECRETS_HEADER_SIZE + 16 + SECRETS_TAG_SIZE &&
    file.toString("latin1", 0, SECRETS_FILE.magic.size) === SECRETS_MAGIC;
  if (
    !ok ||
    file[SECRETS_FILE.version.offset] !== SECRETS_VERSION ||
    file[SECRETS_FILE.kdf.offset] !== KDF_IDS.scrypt
  ) {
    throw new BootmediaError("BM3414", "not a bootmedia secrets file of version 1");
  }
  const kdf = {
    log2N: file[SECRETS_FILE.log2N.offset]!,
    r: file[SECRETS_FILE.r.offset]!,
    p: file[SECRETS_FILE.p.offset]!,
  };
  if (kdf.log2N > MAX_LOG2N || kdf.r < 1 || kdf.p < 1)
    throw new BootmediaError("BM3414", "secrets file has out-of-range KDF parameters");
  const at = (f: { offset: number; size: number }) => file.subarray(f.offset, f.offset + f.size);
  return { kdf, salt: at(SECRETS_FILE.salt), iv: at(SECRETS_FILE.iv) };
}

/** Checks the tag, then decrypts; a wrong password or any altered byte is BM3414. */
export function openSecrets(file: Buffer, password: string): Buffer {
  const { kdf, salt, iv } = readSecretsHeader(file);
  const { encKey, macKey } = deriveSecretKeys(password, salt, kdf);
  const end = file.length - SECRETS_TAG_SIZE;
  const want = createHmac("sha256", macKey).update(file.subarray(0, end)).digest();
  if (!timingSafeEqual(want, file.subarray(end)))
    throw new BootmediaError("BM3414", "wrong media password, or bootmedia/secrets.enc was altered");
  const decipher = createDecipheriv("aes-256-cbc", encKey, iv);
  return Buffer.concat([decipher.update(file.subarray(SECRETS_HEADER_SIZE, end)), decipher.final()]);
}
