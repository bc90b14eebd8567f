import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { derivePkcs12Key } from "./legacy-pbe.ts";

/** password, salt (hex), iterations, purpose id, bytes: salt and password lengths off the 64-byte block, several output blocks. */
const CASES: Array<[string, string, number, number, number]> = [
  ["secret", "0102030405060708", 2048, 1, 24],
  ["secret", "0102030405060708", 2048, 2, 8],
  ["Pfx-Pass-Word-9", "a1b2c3d4e5f60718", 1, 1, 5],
  ["Pässwörd-€-9", "ff", 3, 1, 16],
  ["", "00112233445566778899aabbccddeeff00112233", 7, 2, 8],
  ["a password long enough to span more than one sixty-four byte block of input", "42".repeat(65), 2, 1, 41],
];

describe("PKCS#12 key derivation (RFC 7292 B.2), openssl kdf PKCS12KDF as oracle", () => {
  it.each(CASES)("%j / salt %s / %d iterations / id %d / %d bytes", async (password, salt, iterations, id, n) => {
    // OpenSSL's PKCS12KDF takes the password already as the BMPString of RFC 7292 B.1.
    const bmp = Buffer.from(password + "\0", "utf16le")
      .swap16()
      .toString("hex");
    const r = await execa("openssl", [
      "kdf",
      "-keylen",
      String(n),
      "-kdfopt",
      "digest:SHA1",
      "-kdfopt",
      `hexpass:${bmp}`,
      "-kdfopt",
      `hexsalt:${salt}`,
      "-kdfopt",
      `iter:${iterations}`,
      "-kdfopt",
      `id:${id}`,
      "PKCS12KDF",
    ]);
    const expected = r.stdout.trim().replace(/:/g, "").toLowerCase();
    expect(derivePkcs12Key(password, Buffer.from(salt, "hex"), iterations, id, n).toString("hex")).toBe(expected);
  });
});
