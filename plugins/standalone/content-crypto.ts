/**
 * Protected content of stand-alone media (docs/standalone-media.md, "Protected content"):
 * every package file encrypted so the boot environment can decrypt it while streaming with
 * the OpenSSL 3 command line alone, whose `openssl enc` has no AEAD mode. Encrypt-then-MAC:
 *
 *   key material = scrypt(password UTF-8, salt, N = 2^17, r = 8, p = 1, 64 bytes)  (the secret part's KDF)
 *   encKey = bytes 0..31, macKey = bytes 32..63                         (one pair per media)
 *   iv     = HMAC-SHA256(macKey, "bootmedia-content-iv\0" || id "\0" || path "\0" || sha256)[0..15]
 *   stored = AES-256-CTR(encKey, iv, plaintext)      (same length; 128-bit big-endian counter)
 *   tag    = HMAC-SHA256(macKey, stored)                      (checked at the end of the stream)
 *
 * The IV is synthetic (reproducible media) and differs for every file of other bytes or
 * place; the index that lists IVs and tags is itself authenticated (index.mac), so a file
 * cannot be swapped for another file of the same media either.
 */
import { createCipheriv, createHash, createHmac } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DEFAULT_KDF, deriveSecretKeys, type KdfParams } from "../secrets/index.ts";

export const CONTENT_CIPHER = "aes-256-ctr";
export const CONTENT_MAC = "hmac-sha256";
const IV_LABEL = "bootmedia-content-iv\0";
const INDEX_MAC_LABEL = "bootmedia-standalone-index\0";

interface ContentKeys {
  encKey: Buffer;
  macKey: Buffer;
  kdf: KdfParams;
  salt: Buffer;
}

export function deriveContentKeys(password: string, salt: Buffer, kdf: KdfParams = DEFAULT_KDF): ContentKeys {
  return { ...deriveSecretKeys(password, salt, kdf), kdf, salt };
}

/** The file's IV: 16 bytes, from its package, media path in the package and plaintext sha256. */
export function contentIv(macKey: Buffer, packageId: string, path: string, sha256: string): Buffer {
  return createHmac("sha256", macKey).update(`${IV_LABEL}${packageId}\0${path}\0${sha256}`).digest().subarray(0, 16);
}

interface SealedFile {
  /** HMAC-SHA256 of the stored bytes, hex. */
  tag: string;
  /** sha256 of the stored bytes (what `inspect --check` rehashes), hex. */
  sha256: string;
  bytes: number;
}

/** Streams `from` into `to` encrypted; memory stays at a few stream buffers whatever the size. */
export async function sealFile(
  from: string,
  to: string,
  keys: ContentKeys,
  iv: Buffer,
  onBytes?: (n: number) => void,
): Promise<SealedFile> {
  const cipher = createCipheriv(CONTENT_CIPHER, keys.encKey, iv);
  const mac = createHmac("sha256", keys.macKey);
  const hash = createHash("sha256");
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      mac.update(chunk);
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
  await pipeline(
    createReadStream(from, { highWaterMark: 1 << 20 }),
    cipher,
    tap,
    createWriteStream(to, { mode: 0o600 }),
  );
  return { tag: mac.digest("hex"), sha256: hash.digest("hex"), bytes };
}

/** The index's tag: HMAC-SHA256(macKey, label || each index file's bytes, in order). */
export function indexMac(macKey: Buffer, files: readonly Uint8Array[]): string {
  const h = createHmac("sha256", macKey).update(INDEX_MAC_LABEL);
  for (const f of files) h.update(f);
  return h.digest("hex");
}
