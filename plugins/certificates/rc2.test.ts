import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { decryptRc2Block, decryptRc2Cbc, expandRc2Key } from "./rc2.ts";

// RFC 2268 §5 test vectors: key, effective bits, plaintext, ciphertext.
const VECTORS: Array<[string, number, string, string]> = [
  ["0000000000000000", 63, "0000000000000000", "ebb773f993278eff"],
  ["ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"],
  ["3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"],
  ["88", 64, "0000000000000000", "61a8a244adacccf0"],
  ["88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"],
  ["88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"],
  ["88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"],
];

describe("RC2 (RFC 2268)", () => {
  it.each(VECTORS)("key %s / %d bits decrypts the RFC vector", (key, bits, plain, cipher) => {
    const block = Buffer.from(cipher, "hex");
    decryptRc2Block(expandRc2Key(Buffer.from(key, "hex"), bits), block, 0);
    expect(block.toString("hex")).toBe(plain);
  });

  it("RC2-40-CBC agrees with openssl's legacy provider", async () => {
    const key = Buffer.from("0102030405", "hex");
    const iv = Buffer.from("0011223344556677", "hex");
    const plain = Buffer.from("the certificate bag of a legacy .pfx, 3 blocks+");
    const r = await execa(
      "openssl",
      [
        "enc",
        "-rc2-40-cbc",
        "-provider",
        "legacy",
        "-provider",
        "default",
        "-K",
        key.toString("hex"),
        "-iv",
        iv.toString("hex"),
      ],
      { input: plain, encoding: "buffer", stripFinalNewline: false },
    );
    expect(decryptRc2Cbc(key, 40, iv, Buffer.from(r.stdout))).toEqual(plain);
    expect(() => decryptRc2Cbc(Buffer.from("0102030406", "hex"), 40, iv, Buffer.from(r.stdout))).toThrow();
  });

  it("node:crypto has no RC2 unless the process starts with --openssl-legacy-provider (why rc2.ts exists)", async () => {
    const probe =
      'try { require("node:crypto").createDecipheriv("rc2-40-cbc", Buffer.alloc(5), Buffer.alloc(8)); console.log("available") } catch (e) { console.log(e.code) }';
    const plain = await execa(process.execPath, ["-e", probe], { env: { NODE_OPTIONS: "" } });
    expect(plain.stdout).toBe("ERR_OSSL_EVP_UNSUPPORTED"); // once this fails, node offers RC2 by default: delete rc2.ts
    const legacy = await execa(process.execPath, ["--openssl-legacy-provider", "-e", probe], {
      env: { NODE_OPTIONS: "" },
    });
    expect(legacy.stdout).toBe("available");
  });
});
