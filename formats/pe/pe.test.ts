/**
 * readPe on Debian's signed shim and GRUB, an unsigned binary and our own sbsign'ed copy,
 * checked against sbverify --list (signers) and objdump -h / objcopy (sections, .sbat); then
 * hostile inputs: every damage is a coded error or a bounded result, never a crash or a hang.
 */
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BootmediaError } from "../../base/errors.ts";
import { encodeRecord } from "../record.ts";
import { readAuthenticode } from "./authenticode.ts";
import { PE_LIMITS, readPe, signedDataOf } from "./read.ts";
import { parseSbat, readSbatLevelSection } from "./sbat.ts";
import { DOS_HEADER, PE_HEADER } from "./structures.ts";
import { readVendorCertificate } from "./vendor-cert.ts";
import { execa } from "execa";
import {
  DEBIAN_SIGNED,
  objcopySection,
  objdumpSections,
  plainSnakeoilKey,
  sbsign,
  sbverifySubjects,
  SNAKEOIL,
} from "./testing/oracles.ts";

let work: string;
let ownSigned: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-pe-"));
  ownSigned = join(work, "fb-own.efi");
  await sbsign(DEBIAN_SIGNED.unsigned, ownSigned, await plainSnakeoilKey(join(work, "snakeoil.key")));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const signersOf = (buf: Buffer) =>
  signedDataOf(readPe(buf)).flatMap((d) => (readAuthenticode(d) ?? []).map((s) => s.subject));

describe("readPe against sbverify, objdump and objcopy", () => {
  const files = () => ({ ...DEBIAN_SIGNED, ownSigned });
  it.each(["shim", "grub", "unsigned", "ownSigned"] as const)("%s: sections, signers and .sbat agree", async (name) => {
    const file = files()[name];
    const buf = await readFile(file);
    const pe = readPe(buf, file);
    expect(pe.machine).toBe("x64");
    expect(pe.format).toBe("PE32+");
    expect(pe.subsystem).toBe("efi-application");
    expect(pe.sections.map((s) => s.name)).toEqual(await objdumpSections(file));
    expect(signersOf(buf)).toEqual(await sbverifySubjects(file));
    const raw = await objcopySection(file, ".sbat", join(work, `${name}.sbat`));
    expect(pe.sbat).toBe(raw.toString("utf8").split("\0")[0]);
  });

  it("Debian's shim carries two Microsoft signatures (2011 and 2023 CAs), GRUB Debian's, ours the snakeoil key", async () => {
    expect(signersOf(await readFile(DEBIAN_SIGNED.shim))).toEqual([
      "/C=US/ST=Washington/L=Redmond/O=Microsoft Corporation/CN=Microsoft Windows UEFI Driver Publisher",
      "/C=US/ST=Washington/L=Redmond/O=Microsoft Corporation/CN=Microsoft UEFI CA 2023 signer",
    ]);
    expect(signersOf(await readFile(DEBIAN_SIGNED.grub))).toEqual(["/CN=Debian Secure Boot Signer 2022 - grub2"]);
    expect(signersOf(await readFile(ownSigned))).toEqual(["/C=US/ST=Colorado/L=Fort Collins/O=SnakeOil"]);
    expect(signersOf(await readFile(DEBIAN_SIGNED.unsigned))).toEqual([]);
  });

  it("gives the signing certificate's SHA-256 as openssl computes it from the PEM", async () => {
    const { stdout } = await execa("sh", ["-c", `openssl x509 -in ${SNAKEOIL.cert} -outform DER | sha256sum`]);
    const [signer] = signedDataOf(readPe(await readFile(ownSigned))).flatMap((d) => readAuthenticode(d) ?? []);
    expect(signer.certificateSha256).toBe(stdout.split(" ")[0]);
  });

  it("parses GRUB's SBAT entries and shim's built-in revocation levels", async () => {
    const grub = parseSbat(readPe(await readFile(DEBIAN_SIGNED.grub)).sbat ?? "");
    expect(grub.map((e) => e.component)).toContain("grub");
    expect(grub.find((e) => e.component === "grub")?.generation).toBeGreaterThanOrEqual(1);
    const shim = readPe(await readFile(DEBIAN_SIGNED.shim));
    const levels = readSbatLevelSection(shim.sbatLevel ?? Buffer.alloc(0));
    expect(levels?.previous?.minimum.shim).toBeGreaterThanOrEqual(1);
    expect(levels?.latest?.date).toMatch(/^\d{10}$/);
  });
});

function expectCoded(buf: Buffer, codes: string[]): void {
  let err: unknown;
  try {
    readPe(buf);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(BootmediaError);
  expect(codes).toContain((err as BootmediaError).code);
}

describe("shim's vendor certificate", () => {
  it("is the certificate that verifies Debian's signed GRUB (sbverify --cert), and nothing in other binaries", async () => {
    const der = readVendorCertificate(readPe(await readFile(DEBIAN_SIGNED.shim)).vendorCert!);
    expect(der).not.toBeNull();
    const pem = join(work, "vendor.pem");
    await writeFile(pem, new X509Certificate(der!).toString());
    const ok = await execa("sbverify", ["--cert", pem, DEBIAN_SIGNED.grub], { reject: false });
    expect(ok.stdout + ok.stderr).toMatch(/Signature verification OK/);
    // A binary signed by another key does not verify with it (sbverify accepts any --cert for the
    // Microsoft-signed shim itself, so that one is no witness here).
    const other = await execa("sbverify", ["--cert", pem, ownSigned], { reject: false });
    expect(other.stdout + other.stderr).toMatch(/Signature verification failed/);
    expect(readPe(await readFile(DEBIAN_SIGNED.grub)).vendorCert).toBeNull();
  });

  it("reads damaged tables as none", () => {
    expect(readVendorCertificate(Buffer.alloc(8))).toBeNull();
    const t = Buffer.alloc(32);
    t.writeUInt32LE(1000, 0);
    t.writeUInt32LE(16, 8); // claims more than the section holds
    expect(readVendorCertificate(t)).toBeNull();
    t.writeUInt32LE(8, 0); // fits, but is no DER SEQUENCE
    expect(readVendorCertificate(t)).toBeNull();
  });
});

describe("hostile EFI binaries", () => {
  let shim: Buffer;
  beforeAll(async () => {
    shim = await readFile(DEBIAN_SIGNED.shim);
  });
  const peAt = () => shim.readUInt32LE(DOS_HEADER.fields.e_lfanew.offset);

  it("refuses non-PE input with BM4501", () => {
    for (const b of [Buffer.alloc(0), Buffer.from("MZ"), Buffer.alloc(4096), Buffer.from("#!/bin/sh\n".repeat(20))])
      expectCoded(b, ["BM4501"]);
  });
  it("e_lfanew past the end is BM4501, not a crash", () => {
    const b = Buffer.from(shim.subarray(0, 4096));
    encodeRecord(DOS_HEADER, { e_lfanew: 0xfffffff0 }, b);
    expectCoded(b, ["BM4501"]);
  });
  it("a truncated file is BM4502 (section or certificate outside the file)", () => {
    for (const n of [peAt() + 30, peAt() + 200, 4096, shim.length - 100]) expectCoded(shim.subarray(0, n), ["BM4502"]);
  });
  it("too many sections is BM4503", () => {
    const b = Buffer.from(shim);
    encodeRecord(PE_HEADER, { NumberOfSections: PE_LIMITS.sections + 1 }, b, peAt());
    expectCoded(b, ["BM4503"]);
  });
  it("a zero-length WIN_CERTIFICATE cannot loop", () => {
    const pe = readPe(shim);
    const first = pe.certificates[0].data.byteOffset - shim.byteOffset - 8;
    const b = Buffer.from(shim);
    b.writeUInt32LE(0, first);
    expectCoded(b, ["BM4502"]);
  });
  it("garbage inside the signature gives no signer, not a throw", () => {
    const b = Buffer.from(shim);
    const pe = readPe(b);
    pe.certificates[0].data.fill(0x41, 0, 64);
    expect(readAuthenticode(readPe(b).certificates[0].data)).toBeNull();
  });
  it("random byte flips in the headers end in a result or a coded error", () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 100; i++) {
      const b = Buffer.from(shim);
      for (let k = 0; k < 4; k++) b[Math.floor(rnd() * 1024)] = Math.floor(rnd() * 256);
      try {
        const pe = readPe(b);
        for (const d of signedDataOf(pe)) readAuthenticode(d);
        parseSbat(pe.sbat ?? "");
      } catch (e) {
        expect(e).toBeInstanceOf(BootmediaError);
      }
    }
  });
});
