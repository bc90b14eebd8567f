import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { createSelfSignedCertificate, toPem } from "./self-signed.ts";
import { checkValidity, parseCertificateDate } from "./validity.ts";

const opts = {
  mediaId: "contoso-x64",
  sourceDateEpoch: 1764000000,
  notBefore: new Date("2026-11-23T00:00:00Z"),
  notAfter: new Date("2051-03-01T12:30:00Z"),
};

describe("self-signed media certificate (openssl as oracle)", () => {
  it("carries the dates, client-authentication EKU and digitalSignature key usage asked for", async () => {
    const m = await createSelfSignedCertificate(opts);
    const dir = await mkdtemp(join(tmpdir(), "bm-cert-"));
    await writeFile(join(dir, "c.pem"), toPem("CERTIFICATE", m.chain[0]!));
    await writeFile(join(dir, "k.pem"), toPem("PRIVATE KEY", m.privateKey));
    const text = (await execa("openssl", ["x509", "-in", join(dir, "c.pem"), "-noout", "-text"])).stdout;
    expect(text).toMatch(/Not Before: Nov 23 00:00:00 2026 GMT/);
    expect(text).toMatch(/Not After : Mar  1 12:30:00 2051 GMT/); // GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5)
    expect(text).toMatch(/X509v3 Extended Key Usage: *\n\s+TLS Web Client Authentication\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(text).toMatch(/CA:FALSE/);
    expect(text).toMatch(/Subject: CN = bootmedia media contoso-x64, O = bootmedia/);
    expect(text).toMatch(/ASN1 OID: prime256v1/);
    // The signature verifies (self-signed, at a date inside its validity) and the key is the certificate's.
    const v = await execa(
      "openssl",
      [
        "verify",
        "-attime",
        String(Date.parse("2027-01-01") / 1000),
        "-purpose",
        "sslclient",
        "-CAfile",
        join(dir, "c.pem"),
        join(dir, "c.pem"),
      ],
      { reject: false },
    );
    expect(v.stdout, v.stderr).toMatch(/OK$/);
    const fromCert = (await execa("openssl", ["x509", "-in", join(dir, "c.pem"), "-noout", "-pubkey"])).stdout;
    const fromKey = (await execa("openssl", ["pkey", "-in", join(dir, "k.pem"), "-pubout"])).stdout;
    expect(fromKey).toBe(fromCert);
  });

  it("derives the serial from public facts; the key differs per build", async () => {
    const [a, b] = [await createSelfSignedCertificate(opts), await createSelfSignedCertificate(opts)];
    const serial = async (der: Buffer) =>
      (await execa("openssl", ["x509", "-inform", "DER", "-noout", "-serial"], { input: der })).stdout;
    expect(await serial(a.chain[0]!)).toBe(await serial(b.chain[0]!));
    expect(a.privateKey.equals(b.privateKey)).toBe(false);
  });
});

describe("certificate dates", () => {
  it("parses YYYY-MM-DD and ISO date-times, refuses the rest", () => {
    expect(parseCertificateDate("2026-11-23")?.toISOString()).toBe("2026-11-23T00:00:00.000Z");
    expect(parseCertificateDate("2026-11-23T08:00:00+02:00")?.toISOString()).toBe("2026-11-23T06:00:00.000Z");
    for (const bad of ["2026-02-30", "23.11.2026", "tomorrow", "2026-11-23T08:00"])
      expect(parseCertificateDate(bad), bad).toBeUndefined();
  });

  it("expired is an error, within 30 days a warning, a future start a warning for self-signed", () => {
    const o = { what: "c", path: "p", source: "s", futureStart: "warning" as const };
    const nb = new Date("2026-01-01T00:00:00Z"),
      na = new Date("2027-01-01T00:00:00Z");
    const codes = (now: string) => checkValidity(nb, na, new Date(now), o).map((d) => `${d.severity} ${d.code}`);
    expect(codes("2026-06-01T00:00:00Z")).toEqual([]);
    expect(codes("2027-01-02T00:00:00Z")).toEqual(["error BM3405"]);
    expect(codes("2026-12-15T00:00:00Z")).toEqual(["warning BM3406"]);
    expect(codes("2025-12-01T00:00:00Z")).toEqual(["warning BM3407"]);
  });
});
