import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { bootmedia, scratchFixtures } from "../../testing/cli.ts";

let fx: Awaited<ReturnType<typeof scratchFixtures>>;
// 2025-11-24: the certificate below is valid from 2025-11-01 to 2026-11-01.
const env = () => ({ BOOTMEDIA_CACHE: fx.cache, SOURCE_DATE_EPOCH: "1764000000", MEDIA_PW: "Media-Pass-Phrase-7" });
const args = (out: string, ...more: string[]) => [
  "build",
  fx.spec("sample-dir.yaml"),
  "--out",
  fx.out(out),
  "--password",
  "env:MEDIA_PW",
  "--cert-start",
  "2025-11-01",
  "--cert-expire",
  "2026-11-01",
  ...more,
];

beforeAll(async () => {
  fx = await scratchFixtures();
});

describe("CertificatePlugin (self-signed, through the CLI)", () => {
  it("puts the PEM on the media and the same certificate as <name>.cer (DER) beside the output", async () => {
    const r = await bootmedia(args("self"), { env: env() });
    expect(r.exitCode, r.stderr).toBe(0);
    const der = await readFile(fx.out("contoso-x64.cer"));
    const fromPem = (
      await execa("openssl", ["x509", "-in", join(fx.out("self"), "bootmedia/media.crt"), "-outform", "DER"], {
        encoding: "buffer",
        stripFinalNewline: false,
      })
    ).stdout;
    expect(Buffer.from(fromPem).equals(der)).toBe(true);
    const text = (
      await execa("openssl", ["x509", "-inform", "DER", "-noout", "-dates", "-ext", "extendedKeyUsage"], { input: der })
    ).stdout;
    expect(text).toMatch(/notBefore=Nov  1 00:00:00 2025 GMT\nnotAfter=Nov  1 00:00:00 2026 GMT/);
    expect(text).toMatch(/TLS Web Client Authentication/);
    const config = JSON.parse(await readFile(join(fx.out("self"), "bootmedia/media.json"), "utf8"));
    expect(config.certificate).toMatchObject({
      mode: "self-signed",
      file: "bootmedia/media.crt",
      notAfter: "2026-11-01T00:00:00.000Z",
    });
    expect(config.secrets).toMatchObject({ present: true, entries: ["BM_MEDIA_KEY"] });
  });

  it("refuses an existing <name>.cer without --force (BM1010) and writes nothing", async () => {
    await rm(fx.out("self"), { recursive: true });
    const before = await readFile(fx.out("contoso-x64.cer"));
    const r = await bootmedia(args("self"), { env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/BM1010 .*contoso-x64\.cer/);
    expect(existsSync(fx.out("self"))).toBe(false);
    expect(await readFile(fx.out("contoso-x64.cer"))).toEqual(before);
  });

  it("warns (BM3406) when the certificate expires within 30 days, and --strict refuses it", async () => {
    const late = { ...env(), SOURCE_DATE_EPOCH: String(Date.parse("2026-10-20T00:00:00Z") / 1000) };
    const r = await bootmedia(args("late", "--force"), { env: late });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning BM3406 .*expires on 2026-11-01T00:00:00Z, 12 days after the build/);
    const strict = await bootmedia(args("late-strict", "--force", "--strict"), { env: late });
    expect(strict.exitCode).toBe(1);
    expect(strict.stderr).toMatch(/error BM3406/);
  });

  it("refuses start after expire (BM3404) and a certificate without a media password (BM3402)", async () => {
    const r = await bootmedia(
      [
        "build",
        fx.spec("sample-dir.yaml"),
        "--out",
        fx.out("bad"),
        "--cert-start",
        "2026-12-01",
        "--cert-expire",
        "2026-11-01",
      ],
      { env: env() },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error BM3402 security.password/);
    expect(r.stderr).toMatch(
      /error BM3404 security.certificate.selfSigned: start 2026-12-01 is not before expire 2026-11-01/,
    );
  });

  it("a spec giving both selfSigned and pki is refused at load", async () => {
    const spec = fx.spec("both.yaml");
    const text = (await readFile(fx.spec("sample-dir.yaml"), "utf8")).replace(
      "security:\n",
      "security:\n  certificate: { selfSigned: { start: 2025-11-01, expire: 2026-11-01 }, pki: { file: x.pfx, password: { env: X } } }\n",
    );
    await writeFile(spec, text);
    const r = await bootmedia(["build", spec], { env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/BM1003 .*security.certificate.*exactly one of selfSigned or pki/);
  });
});
