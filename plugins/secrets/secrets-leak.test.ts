/**
 * End to end through the CLI: a media with a password, a PKI certificate from a .pfx and
 * secret variables, built as a folder and as a USB image. No secret may appear in any
 * byte of the media, the log, stdout or stderr; the boot-side script opens the secret part.
 */
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createPrivateKey } from "node:crypto";
import fg from "fast-glob";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { bootmedia, scratchFixtures } from "../../testing/cli.ts";
import { makePkiFixtures, PFX_PASSWORD, type PkiFixtures } from "../certificates/testing/pki-fixtures.ts";

const UNLOCK = fileURLToPath(new URL("./agent/bootmedia-unlock.sh", import.meta.url));
const MEDIA_PASSWORD = "Media-Pass-Phrase-7";
const JOIN_SECRET = "join-domain-S3cret!";
const API_TOKEN = "tok_8d1f6a0c2e5b47f9";

let fx: Awaited<ReturnType<typeof scratchFixtures>>;
let pki: PkiFixtures;
let keyDer: Buffer;
const env = () => ({
  BOOTMEDIA_CACHE: fx.cache,
  SOURCE_DATE_EPOCH: String(Math.floor(Date.now() / 1000) + 86400),
  MEDIA_PW: MEDIA_PASSWORD,
  PFX_PW: PFX_PASSWORD,
  JOIN_PW: JOIN_SECRET,
});

const SPEC = `name: contoso-secure
bootImage: BM100001
taskSequence: BM200010
contentLibrary: ../content
target: { type: directory, output: ../../out/secure }
security:
  password: { env: MEDIA_PW }
  certificate: { pki: { file: client.pfx, password: { env: PFX_PW } } }
customization:
  variables:
    OSDTimeZone: UTC
    DomainJoinPassword: { value: { env: JOIN_PW }, secret: true }
    ApiToken: { value: { file: token.txt }, secret: true }
`;

beforeAll(async () => {
  fx = await scratchFixtures();
  pki = await makePkiFixtures();
  await copyFile(pki.files.modern, fx.spec("client.pfx"));
  await writeFile(fx.spec("token.txt"), API_TOKEN + "\n");
  await writeFile(fx.spec("secure.yaml"), SPEC);
  keyDer = createPrivateKey(await readFile(pki.files.clientKey)).export({ type: "pkcs8", format: "der" });
});

/** Every secret, in the encodings a leak could take. */
function needles(): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const [name, s] of [
    ["media password", MEDIA_PASSWORD],
    ["pfx password", PFX_PASSWORD],
    ["secret variable", JOIN_SECRET],
    ["secret file variable", API_TOKEN],
  ] as const) {
    out.push([`${name} (utf8)`, Buffer.from(s)], [`${name} (utf16le)`, Buffer.from(s, "utf16le")]);
  }
  out.push(
    ["private key (DER)", keyDer],
    ["private key (PEM body)", Buffer.from(keyDer.toString("base64").slice(0, 64))],
  );
  return out;
}

function expectNoSecrets(where: string, bytes: Buffer): void {
  for (const [what, needle] of needles()) expect(bytes.includes(needle), `${what} found in ${where}`).toBe(false);
}

async function filesUnder(dir: string): Promise<string[]> {
  return fg("**/*", { cwd: dir, onlyFiles: true, dot: true, absolute: true });
}

describe("secret leak: build with password, .pfx and secret variables", () => {
  it("directory target: no secret in the media, the log, stdout or stderr; the unlock script opens it", async () => {
    const r = await bootmedia(["build", fx.spec("secure.yaml")], { env: env() });
    expect(r.exitCode, r.stderr).toBe(0);
    expectNoSecrets("stdout", Buffer.from(r.stdout));
    expectNoSecrets("stderr", Buffer.from(r.stderr));
    const files = await filesUnder(fx.out(""));
    expect(files.map((f) => relative(fx.out(""), f))).toEqual(
      expect.arrayContaining([
        "secure/bootmedia/secrets.enc",
        "secure/bootmedia/password.sha512crypt",
        "secure/bootmedia/media.crt",
        "contoso-secure.cer",
        "secure.bootmedia.log",
      ]),
    );
    for (const f of files) expectNoSecrets(f, await readFile(f));
    const log = await readFile(fx.out("secure.bootmedia.log"), "utf8");
    expect(log).toMatch(/variable DomainJoinPassword=\*\*\* \(from env JOIN_PW\)/);
    expect(log).toMatch(/imported client\.pfx: 2 certificates, 1 key\(s\)/);

    // The boot side (busybox sh + openssl) gets every secret back with the right password only.
    const out = join(fx.dir, "unlocked.env");
    const ok = await execa("busybox", ["sh", UNLOCK, fx.out("secure"), out], {
      input: MEDIA_PASSWORD + "\n",
      reject: false,
    });
    expect(ok.exitCode, ok.stderr).toBe(0);
    const unlocked = await readFile(out, "utf8");
    expect(unlocked).toContain(`BM_VAR_DomainJoinPassword='${JOIN_SECRET}'`);
    expect(unlocked).toContain(`BM_VAR_ApiToken='${API_TOKEN}'`);
    expect(unlocked).toContain("BM_SECRET_VARIABLES='DomainJoinPassword ApiToken'");
    const pem = /BM_MEDIA_KEY='([^']+)'/.exec(unlocked)![1]!;
    expect(createPrivateKey(pem).export({ type: "pkcs8", format: "der" }).equals(keyDer)).toBe(true);
    const wrong = await execa("busybox", ["sh", UNLOCK, fx.out("secure"), out + ".2"], {
      input: "Media-Pass-Phrase-8\n",
      reject: false,
    });
    expect(wrong.exitCode).toBe(3);
  });

  it("usb target: no secret in any byte of the image; mtools reads the encrypted part back", async () => {
    const img = fx.out("secure.img");
    const r = await bootmedia(["build", fx.spec("secure.yaml"), "--target", "usb", "--out", img, "--force"], {
      env: env(),
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expectNoSecrets("stdout", Buffer.from(r.stdout));
    expectNoSecrets("stderr", Buffer.from(r.stderr));
    const bytes = await readFile(img);
    expectNoSecrets(img, bytes);
    expectNoSecrets("log", await readFile(fx.out("secure.img.bootmedia.log")));
    const start = Number((await execa("sfdisk", ["--json", img])).stdout.match(/"start":\s*(\d+)/)![1]) * 512;
    const enc = await execa("mcopy", ["-i", `${img}@@${start}`, "::bootmedia/secrets.enc", "-"], {
      encoding: "buffer",
    });
    expect(Buffer.from(enc.stdout).subarray(0, 8).toString()).toBe("BMSECRT1");
  });
});

describe("secret variables from the command line", () => {
  it("--secret-var NAME=env:VAR / NAME=file:PATH land in the secret part like the spec form, and never in clear", async () => {
    const spec = fx.spec("cli-secrets.yaml");
    await writeFile(spec, SPEC.replace(/^    DomainJoinPassword: .*\n    ApiToken: .*\n/m, ""));
    const dir = fx.out("cli-secrets");
    const r = await bootmedia(
      [
        "build",
        spec,
        "--out",
        dir,
        "--force",
        "--secret-var",
        "DomainJoinPassword=env:JOIN_PW",
        "--secret-var",
        "ApiToken=file:token.txt",
      ],
      { env: env() },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expectNoSecrets("stdout", Buffer.from(r.stdout));
    expectNoSecrets("stderr", Buffer.from(r.stderr));
    for (const f of await filesUnder(dir)) expectNoSecrets(f, await readFile(f));
    const out = join(fx.dir, "cli-unlocked.env");
    const ok = await execa("busybox", ["sh", UNLOCK, dir, out], { input: MEDIA_PASSWORD + "\n", reject: false });
    expect(ok.exitCode, ok.stderr).toBe(0);
    const unlocked = await readFile(out, "utf8");
    expect(unlocked).toContain(`BM_VAR_DomainJoinPassword='${JOIN_SECRET}'`);
    expect(unlocked).toContain(`BM_VAR_ApiToken='${API_TOKEN}'`);
  });

  it("an inline value is refused with BM1006 without echoing it, and nothing is written", async () => {
    const r = await bootmedia(
      ["build", fx.spec("secure.yaml"), "--out", fx.out("inline-secret"), "--secret-var", `Leaky=${JOIN_SECRET}`],
      { env: env() },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error BM1006 .*--secret-var Leaky=/);
    expectNoSecrets("stderr", Buffer.from(r.stderr));
    expectNoSecrets("stdout", Buffer.from(r.stdout));
    expect(await fg("inline-secret*", { cwd: fx.out("") })).toEqual([]);
  });
});

describe("settings errors through the CLI: coded, no stack trace, nothing written", () => {
  const cases: Array<[string, string[], Record<string, string>, string]> = [
    ["weak password", [], { MEDIA_PW: "short1A" }, "BM3401"],
    ["wrong .pfx password", [], { PFX_PW: "not-the-password" }, "BM3408"],
    ["media password variable not set", ["--password", "env:NO_SUCH_UNUSED"], {}, "BM1007"],
    ["read-only variable", ["--var", "_SMSTSMediaType=x"], {}, "BM3403"],
    ["expired self-signed certificate", ["--cert-start", "2020-01-01", "--cert-expire", "2021-01-01"], {}, "BM3405"],
  ];
  it.each(cases)("%s", async (_name, args, extraEnv, code) => {
    let spec = fx.spec("secure.yaml");
    if (args.includes("--cert-start")) {
      spec = fx.spec("secure-self.yaml");
      await writeFile(spec, SPEC.replace(/^  certificate: .*\n/m, ""));
    }
    const r = await bootmedia(["build", spec, "--out", fx.out(`fail-${code}`), ...args], {
      env: { ...env(), ...extraEnv },
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`error ${code} `));
    expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/);
    expectNoSecrets("stderr", Buffer.from(r.stderr));
    if (extraEnv.MEDIA_PW) expect(r.stderr).not.toContain(extraEnv.MEDIA_PW);
    // No media; only the failed run's own log (docs/safety.md), and no secret in it.
    expect(await fg(`fail-${code}*`, { cwd: fx.out("") })).toEqual([`fail-${code}.failed.bootmedia.log`]);
    const log = await readFile(fx.out(`fail-${code}.failed.bootmedia.log`));
    expectNoSecrets("failed log", log);
    if (extraEnv.MEDIA_PW) expect(log.toString()).not.toContain(extraEnv.MEDIA_PW);
  });

  it("a secret variable without any password is BM3402; --strict makes the missing password an error", async () => {
    const spec = fx.spec("nopass.yaml");
    const noSecurity = SPEC.replace(/^security:\n(  .*\n)+/m, "");
    await writeFile(spec, noSecurity);
    const r = await bootmedia(["build", spec, "--out", fx.out("nopass")], { env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /error BM3402 security.password: secret variables DomainJoinPassword, ApiToken need a media password/,
    );
    const plain = fx.spec("plain.yaml");
    await writeFile(plain, noSecurity.replace(/^    \w+: \{ value.*\n/gm, ""));
    const strict = await bootmedia(["build", plain, "--out", fx.out("plain"), "--strict"], { env: env() });
    expect(strict.exitCode).toBe(1);
    expect(strict.stderr).toMatch(/error BM3010/);
  });
});
