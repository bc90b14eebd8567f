/**
 * What the Secure Boot chains refuse, through the real CLI on the reference spec: unusable
 * signing settings (BM3707, BM3708, BM3709) and kernels the chain would not start (BM3703),
 * each a coded error, exit 1, no media written, no key text or password in what is printed.
 * The kernels are the reference x64 kernel with its signatures removed by sbattach, and that
 * one signed again with the snakeoil key by sbsign, imported by `bootmedia library add-boot-image`.
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import { copyFile, cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceImages } from "../../testing/reference-fixtures.ts";
import { otherCertificate, plainSnakeoilKey, sbsign, sbverifySubjects } from "../../formats/pe/testing/oracles.ts";
import { bootmedia, ROOT } from "../../testing/cli.ts";
import {
  buildReference,
  extractIsoTree,
  ownKeyArgs,
  ownKeyEnv,
  sbverifyCert,
  snakeoilKeyTexts,
  SNAKEOIL,
  type Built,
} from "./testing/chain-media.ts";

const REFERENCE_LIBRARY = join(ROOT, "fixtures/reference/content");
const X64 = join(REFERENCE_LIBRARY, "packages/BM100064/files/boot/x64");
const WRONG_PASSWORD = "Wr0ng-Passw0rd-4-test";

let work: string;
let cache: string;
let n = 0;
/** A fresh output path: nothing may be written there on a refusal. */
const out = (ext = "iso") => join(work, `out-${++n}.${ext}`);

function expectRefused(b: Built, code: string, message: RegExp): void {
  expect(b.exitCode, b.stderr).toBe(1);
  expect(b.stderr).toMatch(new RegExp(`^error ${code} `, "m"));
  expect(b.stderr).toMatch(message);
  expect(b.stderr).toContain("hint: ");
  expect(existsSync(b.out), `${b.out} must not be written`).toBe(false);
}

beforeAll(async () => {
  await referenceImages();
  work = await mkdtemp(join(tmpdir(), "bm-sb-refusals-"));
  cache = join(work, "cache");
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("own-key signing settings", () => {
  it("a wrong password is BM3707, and neither it nor the key shows in the output or the log", async () => {
    const b = await buildReference(out(), cache, ownKeyArgs("env"), await ownKeyEnv(WRONG_PASSWORD));
    expectRefused(b, "BM3707", /cannot read the signing key/);
    const { plainLines, encryptedLines } = await snakeoilKeyTexts();
    for (const text of [b.stdout, b.stderr, b.log]) {
      expect(text.includes(WRONG_PASSWORD)).toBe(false);
      for (const line of [...plainLines, ...encryptedLines]) expect(text.includes(line)).toBe(false);
    }
  });

  it("a certificate of another key is BM3708", async () => {
    const { cert } = await otherCertificate(work, "other-rsa");
    const args = ownKeyArgs("env");
    args[args.indexOf("--signing-cert") + 1] = cert;
    expectRefused(
      await buildReference(out(), cache, args, await ownKeyEnv()),
      "BM3708",
      /does not belong to the signing key/,
    );
  });

  it("an EC key with its own certificate is BM3708 (firmware and shim verify RSA only)", async () => {
    const key = join(work, "ec.key");
    const cert = join(work, "ec.pem");
    await execa(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-subj",
        "/CN=EC key",
        "-days",
        "30",
      ],
      { stderr: "ignore" },
    );
    const b = await buildReference(out(), cache, [
      "--secure-boot-chain",
      "own-key",
      "--signing-key",
      `file:${key}`,
      "--signing-cert",
      cert,
    ]);
    expectRefused(b, "BM3708", /signing key is ec/);
  });

  it("chain own-key without signing, and signing with chain signed, are BM3709", async () => {
    expectRefused(
      await buildReference(out(), cache, ["--secure-boot-chain", "own-key"]),
      "BM3709",
      /own-key chain needs signing/,
    );
    const args = ownKeyArgs("env");
    args[args.indexOf("own-key")] = "signed";
    expectRefused(
      await buildReference(out(), cache, args, await ownKeyEnv()),
      "BM3709",
      /signing is read only with chain: own-key/,
    );
  });
});

describe("kernels the chain would not start (BM3703)", () => {
  let library: string;
  const ids = { unsigned: "BMSBUNSIGNED", snakeoil: "BMSBSNAKEOIL" };
  /** x64-only media from one package of the test library, for an x64 UEFI machine. */
  const kernelArgs = (id: string) => ["--content-library", library, "--boot-image", id, "--machine", "x64-uefi:e1000"];

  beforeAll(async () => {
    library = join(work, "library");
    await cp(join(REFERENCE_LIBRARY, "packages/BM200010"), join(library, "packages/BM200010"), { recursive: true });
    const unsigned = join(work, "vmlinuz-unsigned");
    await copyFile(join(X64, "vmlinuz"), unsigned);
    await execa("sbattach", ["--remove", unsigned]);
    const snakeoil = join(work, "vmlinuz-snakeoil");
    await sbsign(unsigned, snakeoil, await plainSnakeoilKey(join(work, "snakeoil-plain.key")));
    for (const [kind, kernel] of [
      ["unsigned", unsigned],
      ["snakeoil", snakeoil],
    ] as const) {
      const r = await bootmedia([
        "library",
        "add-boot-image",
        library,
        "--kernel",
        kernel,
        "--initrd",
        join(X64, "initrd.img"),
        "--arch",
        "x64",
        "--drivers",
        "e1000",
        "--id",
        ids[kind],
      ]);
      if (r.exitCode !== 0) throw new Error(`library add-boot-image ${kind}: ${r.stderr}`);
    }
    // The oracle's word on the two kernels.
    expect(await sbverifySubjects(unsigned)).toEqual([]);
    expect((await sbverifyCert(snakeoil, SNAKEOIL.cert)).ok).toBe(true);
  }, 120_000);

  it("without a chain the unsigned kernel builds (the package itself is fine)", async () => {
    const b = await buildReference(out(), cache, kernelArgs(ids.unsigned));
    expect(b.exitCode, b.stderr).toBe(0);
  });

  it("an unsigned kernel is refused by both chains", async () => {
    expectRefused(
      await buildReference(out(), cache, [...kernelArgs(ids.unsigned), "--secure-boot-chain", "signed"]),
      "BM3703",
      /the kernel is unsigned; the signed chain trusts certificates issued by \/CN=Debian Secure Boot CA/,
    );
    expectRefused(
      await buildReference(out(), cache, [...kernelArgs(ids.unsigned), ...ownKeyArgs("env")], await ownKeyEnv()),
      "BM3703",
      /the kernel is unsigned; the own-key chain trusts/,
    );
  });

  it("a kernel signed with the user's key starts under own-key (it is on the media, verified by sbverify) and is refused by the signed chain", async () => {
    expectRefused(
      await buildReference(out(), cache, [...kernelArgs(ids.snakeoil), "--secure-boot-chain", "signed"]),
      "BM3703",
      /signed by \/C=US\/ST=Colorado\/L=Fort Collins\/O=SnakeOil/,
    );
    const b = await buildReference(
      out(),
      cache,
      [...kernelArgs(ids.snakeoil), ...ownKeyArgs("env")],
      await ownKeyEnv(),
    );
    expect(b.exitCode, b.stderr).toBe(0);
    expect(b.log).toMatch(/started by the own-key chain/);
    const tree = await extractIsoTree(b.out, join(work, "snakeoil-kernel.tree"));
    expect((await sbverifyCert(join(tree, `boot/${ids.snakeoil}/vmlinuz-snakeoil`), SNAKEOIL.cert)).output).toMatch(
      /^Signature verification OK$/m,
    );
  });
});
