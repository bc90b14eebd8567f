/**
 * readPfx on the encodings OpenSSL 3 can write, openssl as the oracle: `openssl pkcs12 -info`
 * proves each file is protected the way its case says, and the certificate we read back is byte
 * for byte `openssl x509 -outform DER` of the input, and openssl reads our key as the input key.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as asn1js from "asn1js";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { readPfx } from "./pkcs12.ts";

const PASSWORD = "Pfx-Pass-Word-9";
/** Non-ASCII: UTF-8 for PBKDF2, a BMPString for the PKCS#12 key derivation (RFC 7292 B.1). */
const UMLAUT_PASSWORD = "Pässwörd-€-9";

/** name, openssl pkcs12 -export options, password, what `openssl pkcs12 -info` prints, what our log says. */
const READABLE: Array<[string, string[], string, RegExp, string[]]> = [
  [
    "PBES2 with 3DES-CBC",
    ["-keypbe", "DES-EDE3-CBC", "-certpbe", "DES-EDE3-CBC"],
    PASSWORD,
    /PBES2, PBKDF2, DES-EDE3-CBC/,
    ["MAC HMAC-SHA256", "certificates: PBES2", "key: PBES2"],
  ],
  [
    "PBES2 AES-128/192, SHA-384 MAC",
    ["-keypbe", "AES-128-CBC", "-certpbe", "AES-192-CBC", "-macalg", "sha384"],
    PASSWORD,
    /MAC: sha384[\s\S]*AES-192-CBC[\s\S]*AES-128-CBC/,
    ["MAC HMAC-SHA384"],
  ],
  ["SHA-512 MAC", ["-macalg", "sha512"], PASSWORD, /MAC: sha512/, ["MAC HMAC-SHA512"]],
  [
    "legacy RC2-128 for certificates and key",
    ["-legacy", "-certpbe", "PBE-SHA1-RC2-128", "-keypbe", "PBE-SHA1-RC2-128"],
    PASSWORD,
    /pbeWithSHA1And128BitRC2-CBC/,
    ["certificates: PBE-SHA1-RC2-128", "key: PBE-SHA1-RC2-128"],
  ],
  [
    "unencrypted bags (-keypbe NONE -certpbe NONE)",
    ["-keypbe", "NONE", "-certpbe", "NONE"],
    PASSWORD,
    /Key bag/,
    ["MAC HMAC-SHA256"],
  ],
  ["no MAC", ["-nomac"], PASSWORD, /MAC is absent/, ["no MAC", "key: PBES2"]],
  ["modern, non-ASCII password", [], UMLAUT_PASSWORD, /AES-256-CBC/, ["MAC HMAC-SHA256", "key: PBES2"]],
  [
    "legacy, non-ASCII password",
    ["-legacy"],
    UMLAUT_PASSWORD,
    /pbeWithSHA1And40BitRC2-CBC[\s\S]*pbeWithSHA1And3-KeyTripleDES-CBC/,
    ["MAC HMAC-SHA1", "certificates: PBE-SHA1-RC2-40", "key: PBE-SHA1-3DES"],
  ],
];

/** Schemes OpenSSL can still write that we refuse by name (BM3413), not as a wrong password. */
const UNSUPPORTED: Array<[string, string[], RegExp]> = [
  ["RC4-128 certificates", ["-legacy", "-certpbe", "PBE-SHA1-RC4-128"], /pbeWithSHA1And128BitRC4/],
  ["2-key 3DES key", ["-legacy", "-keypbe", "PBE-SHA1-2DES"], /pbeWithSHA1And2-KeyTripleDES-CBC/],
];

let dir: string;
let certDer: Buffer;
let keyDer: Buffer;
const file = (name: string) => join(dir, `${name.replace(/\W+/g, "-")}.pfx`);
const info = async (name: string, password: string) =>
  execa("openssl", ["pkcs12", "-info", "-noout", "-legacy", "-in", file(name), "-passin", `pass:${password}`], {
    reject: false,
  }).then((r) => r.stderr + r.stdout);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bm-pkcs12-"));
  const ssl = (...args: string[]) => execa("openssl", args, { cwd: dir, encoding: "buffer", stripFinalNewline: false }); // DER may end in 0x0a
  await ssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "k.pem",
    "-out",
    "c.pem",
    "-subj",
    "/CN=pkcs12 test",
    "-days",
    "30",
  );
  certDer = Buffer.from((await ssl("x509", "-in", "c.pem", "-outform", "DER")).stdout);
  keyDer = Buffer.from((await ssl("pkey", "-in", "k.pem", "-outform", "DER")).stdout);
  const all = [
    ...READABLE.map(([n, o, p]) => [n, o, p] as const),
    ...UNSUPPORTED.map(([n, o]) => [n, o, PASSWORD] as const),
  ];
  await Promise.all(
    all.map(([name, opts, password]) =>
      ssl(
        "pkcs12",
        "-export",
        "-inkey",
        "k.pem",
        "-in",
        "c.pem",
        ...opts,
        "-passout",
        `pass:${password}`,
        "-out",
        file(name),
      ),
    ),
  );
});

describe("readPfx: every encoding OpenSSL 3 writes by default or on request", () => {
  it.each(READABLE)("%s", async (name, _opts, password, opensslSays, weSay) => {
    expect(await info(name, password)).toMatch(opensslSays);
    const pfx = await readPfx(await readFile(file(name)), password, name);
    expect(pfx.certificates).toEqual([certDer]);
    // PKCS#8 has more than one valid encoding of a key (OpenSSL's bag repeats the curve):
    // openssl reads the key we return and must find the one it was given.
    expect(pfx.privateKeys).toHaveLength(1);
    const reread = await execa("openssl", ["pkey", "-inform", "DER", "-outform", "DER"], {
      input: pfx.privateKeys[0],
      encoding: "buffer",
      stripFinalNewline: false,
    });
    expect(Buffer.from(reread.stdout)).toEqual(keyDer);
    for (const label of weSay) expect(pfx.protection.join("; ")).toContain(label);
  });

  it.each(UNSUPPORTED)("%s is BM3413 (named, not taken for a wrong password)", async (name, _opts, opensslSays) => {
    expect(await info(name, PASSWORD)).toMatch(opensslSays);
    await expect(readPfx(await readFile(file(name)), PASSWORD, name)).rejects.toMatchObject({
      code: "BM3413",
      where: name,
    });
  });

  it("a wrong password on a file without a MAC still fails as BM3408", async () => {
    await expect(readPfx(await readFile(file("no MAC")), "not-the-password", "x.pfx")).rejects.toMatchObject({
      code: "BM3408",
      where: "x.pfx",
    });
  });

  it("BER as Windows writes it: indefinite lengths and a constructed authSafe OCTET STRING", async () => {
    const der = await readFile(file("SHA-512 MAC"));
    const ber = rewriteAsIndefiniteBer(der);
    await writeFile(join(dir, "ber.pfx"), ber);
    expect((await execa("openssl", ["asn1parse", "-inform", "DER", "-in", join(dir, "ber.pfx")])).stdout).toMatch(
      /^\s*0:d=0\s+hl=2 l=inf\s+cons: SEQUENCE/,
    );
    expect(
      (
        await execa("openssl", [
          "pkcs12",
          "-info",
          "-noout",
          "-in",
          join(dir, "ber.pfx"),
          "-passin",
          `pass:${PASSWORD}`,
        ])
      ).stderr,
    ).toMatch(/MAC: sha512/);
    const pfx = await readPfx(ber, PASSWORD, "ber.pfx");
    expect(pfx.certificates).toEqual([certDer]);
    expect(pfx.privateKeys).toHaveLength(1);
  });

  it("a truncated file is BM3408 'not a PKCS#12 file'", async () => {
    const bytes = (await readFile(file("SHA-512 MAC"))).subarray(0, 100);
    await expect(readPfx(bytes, PASSWORD, "cut.pfx")).rejects.toMatchObject({
      code: "BM3408",
      message: expect.stringMatching(/not a PKCS#12 file/),
    });
  });
});

/**
 * RFC 7292 §4 PFX re-encoded the BER way: the PFX, authSafe ContentInfo and its [0] with
 * indefinite lengths (X.690 §8.1.3.6), the authSafe OCTET STRING split into two segments
 * (X.690 §8.7.3). The octets the MAC covers are unchanged, so the file stays valid.
 */
function rewriteAsIndefiniteBer(der: Buffer): Buffer {
  const pfx = asn1js.fromBER(new Uint8Array(der).buffer).result as asn1js.Sequence;
  const authSafe = pfx.valueBlock.value[1] as asn1js.Sequence;
  const explicit0 = authSafe.valueBlock.value[1] as asn1js.Constructed;
  const octets = new Uint8Array((explicit0.valueBlock.value[0] as asn1js.OctetString).getValue());
  const half = octets.length >> 1;
  explicit0.valueBlock.value[0] = new asn1js.OctetString({
    idBlock: { isConstructed: true },
    value: [
      new asn1js.OctetString({ valueHex: octets.slice(0, half) }),
      new asn1js.OctetString({ valueHex: octets.slice(half) }),
    ],
  } as ConstructorParameters<typeof asn1js.OctetString>[0]);
  for (const node of [pfx, authSafe, explicit0]) {
    node.lenBlock.isIndefiniteForm = true;
    node.valueBlock.isIndefiniteForm = true;
  }
  return Buffer.from(pfx.toBER(false));
}
