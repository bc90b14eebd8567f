/**
 * RC2 decryption (RFC 2268), only for reading legacy PKCS#12 files: their certificate
 * bag is encrypted with pbeWithSHAAnd40BitRC2-CBC, which OpenSSL 3 and Node keep only in
 * the legacy provider. Never used to encrypt anything.
 */

/** RFC 2268 §2: PITABLE, a permutation of 0..255 derived from the digits of pi. */
const PITABLE = Buffer.from(
  "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2179a59f587b34f1361456d8d09817d32" +
    "bd8f40eb86b77b0bf09521225c6b4e8254d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626" +
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed708e8eade8052eef784aa72ac354d6a2a" +
    "961ad2715a1549744b9fd05e0418a4ecc2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731" +
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a90d38341bab33ffb0bb480c5fb9b1cd2e" +
    "c5f3db47e5a59c770aa62068fe7fc1ad",
  "hex",
);

/** RFC 2268 §2: key expansion to 64 16-bit subkeys with `effectiveBits` effective key bits. */
export function expandRc2Key(key: Buffer, effectiveBits: number): Uint16Array {
  const T = key.length;
  const L = new Uint8Array(128);
  L.set(key);
  for (let i = T; i < 128; i++) L[i] = PITABLE[(L[i - 1]! + L[i - T]!) & 0xff]!;
  const T8 = Math.ceil(effectiveBits / 8);
  const TM = 0xff >> (8 * T8 - effectiveBits);
  L[128 - T8] = PITABLE[L[128 - T8]! & TM]!;
  for (let i = 127 - T8; i >= 0; i--) L[i] = PITABLE[L[i + 1]! ^ L[i + T8]!]!;
  const K = new Uint16Array(64);
  for (let i = 0; i < 64; i++) K[i] = L[2 * i]! | (L[2 * i + 1]! << 8);
  return K;
}

const ROTATE = [1, 2, 3, 5] as const;

/** RFC 2268 §4: one 8-byte block (four little-endian 16-bit words), decrypted in place. */
export function decryptRc2Block(K: Uint16Array, block: Buffer, at: number): void {
  const R = [0, 1, 2, 3].map((i) => block.readUInt16LE(at + 2 * i));
  let j = 63;
  const rMix = () => {
    for (let i = 3; i >= 0; i--) {
      const s = ROTATE[i]!;
      R[i] = ((R[i]! >>> s) | (R[i]! << (16 - s))) & 0xffff;
      const a = R[(i + 3) % 4]!,
        b = R[(i + 2) % 4]!,
        c = R[(i + 1) % 4]!;
      R[i] = (R[i]! - K[j--]! - (a & b) - (~a & c)) & 0xffff;
    }
  };
  const rMash = () => {
    for (let i = 3; i >= 0; i--) R[i] = (R[i]! - K[R[(i + 3) % 4]! & 63]!) & 0xffff;
  };
  for (const step of [5, -1, 6, -1, 5]) {
    if (step < 0) rMash();
    else for (let n = 0; n < step; n++) rMix();
  }
  R.forEach((w, i) => block.writeUInt16LE(w, at + 2 * i));
}

/** RC2-CBC decryption with PKCS#7 padding removed; throws on bad padding (a wrong key). */
export function decryptRc2Cbc(key: Buffer, effectiveBits: number, iv: Buffer, data: Buffer): Buffer {
  if (data.length === 0 || data.length % 8 !== 0) throw new Error("RC2-CBC data is not a whole number of blocks");
  const K = expandRc2Key(key, effectiveBits);
  const out = Buffer.from(data);
  for (let at = 0; at < out.length; at += 8) {
    decryptRc2Block(K, out, at);
    const prev = at === 0 ? iv : data.subarray(at - 8, at);
    for (let i = 0; i < 8; i++) out[at + i]! ^= prev[i]!;
  }
  const pad = out[out.length - 1]!;
  if (pad < 1 || pad > 8 || !out.subarray(out.length - pad).every((b) => b === pad))
    throw new Error("bad RC2-CBC padding");
  return out.subarray(0, out.length - pad);
}
