import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { readPfx } from "./pkcs12.ts";
import { checkPkiCertificate } from "./pki.ts";
import { toPem } from "./self-signed.ts";
import { describePfx, makePkiFixtures, PFX_PASSWORD, type PkiFixtures } from "./testing/pki-fixtures.ts";

let fx: PkiFixtures;
let clientValidFrom: Date;
const at = { path: "security.certificate.pki", source: "test" };
const DAY = 86_400_000;

beforeAll(async () => {
  fx = await makePkiFixtures();
  clientValidFrom = new Date(new X509Certificate(await readFile(fx.files.clientPem)).validFrom);
});

const load = async (file: string, password = PFX_PASSWORD) => readPfx(await readFile(file), password, file);
const codes = (ds: Array<{ code: string; severity: string }>) => ds.map((d) => `${d.severity} ${d.code}`);
const inside = () => new Date(clientValidFrom.getTime() + 10 * DAY);

describe("PKI .pfx import (fixtures from openssl req/x509/pkcs12)", () => {
  it.each([
    ["modern", "PBES2", /PBES2|AES-256-CBC/i],
    ["legacy", "PBE-SHA1-RC2-40", /RC2|3DES|TripleDES/i],
  ] as const)(
    "imports the %s file: key matches leaf, chain accepted by openssl verify -partial_chain",
    async (which, protection, opensslSays) => {
      expect(await describePfx(fx.files[which])).toMatch(opensslSays);
      const pfx = await load(fx.files[which]);
      expect(pfx.protection.join(" ")).toContain(protection);
      const { material, diagnostics } = checkPkiCertificate(pfx, inside(), at);
      expect(diagnostics).toEqual([]);
      expect(material!.chain).toHaveLength(2);
      // The leaf and key we picked are the ones openssl wrote.
      expect(new X509Certificate(material!.chain[0]!).serialNumber).toBe("1092"); // 4242
      const keyPem = createPrivateKey({ key: material!.privateKey, format: "der", type: "pkcs8" }).export({
        type: "pkcs8",
        format: "pem",
      });
      expect(keyPem).toBe(
        createPrivateKey(await readFile(fx.files.clientKey)).export({ type: "pkcs8", format: "pem" }),
      );
      // Oracle: openssl verifies the chain we extracted (leaf against the issuer we found).
      const leaf = join(fx.dir, `${which}-leaf.pem`);
      const issuers = join(fx.dir, `${which}-issuers.pem`);
      await writeFile(leaf, toPem("CERTIFICATE", material!.chain[0]!));
      await writeFile(
        issuers,
        material!.chain
          .slice(1)
          .map((d) => toPem("CERTIFICATE", d))
          .join(""),
      );
      const v = await execa(
        "openssl",
        ["verify", "-partial_chain", "-purpose", "sslclient", "-CAfile", issuers, leaf],
        { reject: false },
      );
      expect(v.stdout, v.stderr).toMatch(/: OK$/);
    },
  );

  it("a wrong password is BM3408 (modern and legacy), with no stack trace in the message", async () => {
    for (const file of [fx.files.modern, fx.files.legacy]) {
      const e = await load(file, "wrong-password").catch((x: unknown) => x);
      expect(e).toMatchObject({ code: "BM3408", message: expect.stringMatching(/password is wrong/) });
      expect((e as Error).message).not.toMatch(/\n\s+at /);
    }
  });

  it("a file that is not PKCS#12 is BM3408", async () => {
    await expect(load(fx.files.caPem)).rejects.toMatchObject({ code: "BM3408" });
  });

  it("no private key is BM3409", async () => {
    expect(codes(checkPkiCertificate(await load(fx.files.noKey), inside(), at).diagnostics)).toEqual(["error BM3409"]);
  });

  it("a key that matches no certificate is BM3410", async () => {
    const pfx = await load(fx.files.modern);
    const other = createPrivateKey(await readFile(fx.files.otherKey)).export({ type: "pkcs8", format: "der" });
    expect(codes(checkPkiCertificate({ ...pfx, privateKeys: [other] }, inside(), at).diagnostics)).toEqual([
      "error BM3410",
    ]);
  });

  it("a certificate without client authentication is BM3411", async () => {
    expect(codes(checkPkiCertificate(await load(fx.files.serverOnly), inside(), at).diagnostics)).toEqual([
      "error BM3411",
    ]);
  });

  it("a chain missing its issuer is BM3412", async () => {
    expect(codes(checkPkiCertificate(await load(fx.files.noChain), inside(), at).diagnostics)).toEqual([
      "error BM3412",
    ]);
  });

  it("expired at the build date is BM3405; not yet valid is BM3407; expiring within 30 days warns BM3406", async () => {
    const pfx = await load(fx.files.modern);
    expect(codes(checkPkiCertificate(pfx, new Date(clientValidFrom.getTime() + 400 * DAY), at).diagnostics)).toEqual([
      "error BM3405",
    ]);
    // The root was issued together with the leaf: both are not yet valid, each reported.
    const early = checkPkiCertificate(pfx, new Date(clientValidFrom.getTime() - 2 * DAY), at).diagnostics;
    expect(codes(early)).toEqual(["error BM3407", "error BM3407"]);
    expect(early.map((d) => d.message)).toEqual([
      expect.stringMatching(/^the media certificate "CN=client/),
      expect.stringMatching(/^issuing certificate "CN=bootmedia Test Root CA/),
    ]);
    expect(codes(checkPkiCertificate(pfx, new Date(clientValidFrom.getTime() + 350 * DAY), at).diagnostics)).toEqual([
      "warning BM3406",
    ]);
  });
});
