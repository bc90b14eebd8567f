/**
 * Cost of the password verifier and the secret part's KDF, side by side, ours against the
 * tools the boot environment runs: `tsx plugins/secrets/bench/settings.ts [runs]`. Prints the
 * median wall time of each. (A guess costs an attacker the same work per salt.)
 */
import { pbkdf2Sync } from "node:crypto";
import { execa } from "execa";
import { sha512Crypt } from "../../password/sha512-crypt.ts";
import { VERIFIER_ROUNDS } from "../../password/password-plugin.ts";
import { DEFAULT_KDF, deriveSecretKeys } from "../secret-box.ts";

const runs = Number(process.argv[2] ?? 3);
const PASSWORD = "Bench-Pass-Phrase-1";
const SALT = "benchsaltbenchsa";
const N = 2 ** DEFAULT_KDF.log2N;

async function median(fn: () => unknown | Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const rows: Array<[string, string, () => unknown]> = [
  [
    `SHA-512-crypt ${VERIFIER_ROUNDS} rounds`,
    "bootmedia (TypeScript)",
    () => sha512Crypt(PASSWORD, SALT, VERIFIER_ROUNDS),
  ],
  [
    `SHA-512-crypt ${VERIFIER_ROUNDS} rounds`,
    "busybox mkpasswd (boot side)",
    () =>
      execa("busybox", ["mkpasswd", "-m", "sha512", "-P", "0", "-S", `rounds=${VERIFIER_ROUNDS}$${SALT}`], {
        input: PASSWORD,
      }),
  ],
  [
    `scrypt N=2^${DEFAULT_KDF.log2N} r=${DEFAULT_KDF.r} p=${DEFAULT_KDF.p}`,
    "bootmedia (node:crypto)",
    () => deriveSecretKeys(PASSWORD, Buffer.alloc(32, 1), DEFAULT_KDF),
  ],
  [
    `scrypt N=2^${DEFAULT_KDF.log2N} r=${DEFAULT_KDF.r} p=${DEFAULT_KDF.p}`,
    "openssl kdf SCRYPT (boot side)",
    () =>
      execa("openssl", [
        "kdf",
        "-keylen",
        "64",
        "-binary",
        "-kdfopt",
        `pass:${PASSWORD}`,
        "-kdfopt",
        "hexsalt:" + "01".repeat(32),
        "-kdfopt",
        `n:${N}`,
        "-kdfopt",
        `r:${DEFAULT_KDF.r}`,
        "-kdfopt",
        `p:${DEFAULT_KDF.p}`,
        "SCRYPT",
      ]),
  ],
  [
    "PBKDF2-HMAC-SHA512 600000 (not used; for comparison)",
    "node:crypto",
    () => pbkdf2Sync(PASSWORD, "salt", 600_000, 64, "sha512"),
  ],
];

console.log(`median of ${runs} runs, ${new Date().toISOString()}`);
console.log(`${"what".padEnd(52)} ${"implementation".padEnd(32)} ms`);
for (const [what, impl, fn] of rows)
  console.log(`${what.padEnd(52)} ${impl.padEnd(32)} ${Math.round(await median(fn))}`);
