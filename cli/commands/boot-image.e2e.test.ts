/**
 * `bootmedia boot-image build --signing-key/--signing-cert/--signing-key-password` through the
 * real CLI, on Debian's x64 kernel (the .debs reused from the fixtures' build folder when it has
 * them, else downloaded). Oracles: sbverify with the snakeoil certificate, with Debian's CA
 * (from shim by objcopy) and with a stranger's certificate; `sbverify --list`; `bootmedia
 * library verify` for the manifest. Failures exit 1 with their code and leave --out empty.
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES_BUILD_DIR } from "../../fixtures/boot-images/build.ts";
import {
  debianCa,
  otherCertificate,
  sbverifySubjects,
  sbverifyWith,
  SNAKEOIL,
} from "../../formats/pe/testing/oracles.ts";
import { bootmedia } from "../../testing/cli.ts";

const SNAKEOIL_SUBJECT = "/C=US/ST=Colorado/L=Fort Collins/O=SnakeOil";
const ENV = { BM_TEST_KEY_PASSWORD: SNAKEOIL.password, BM_TEST_WRONG_PASSWORD: "not-the-password" };
const signingFlags = (passwordEnv = "BM_TEST_KEY_PASSWORD") => [
  "--signing-key",
  `file:${SNAKEOIL.key}`,
  "--signing-cert",
  SNAKEOIL.cert,
  "--signing-key-password",
  `env:${passwordEnv}`,
];
let dir: string;
let cache: string;
/** Every text line of the key (the encrypted file and its decrypted form): none may be printed. */
let keyLines: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bm-bi-sign-"));
  cache = join(dir, "cache");
  // The fixtures' downloads and boot loader, hard-linked (copied across file systems).
  for (const [from, to] of [
    ["debs", "boot-image-build/debs"],
    ["boot-loader", "boot-loader"],
  ] as const) {
    if (!existsSync(join(FIXTURES_BUILD_DIR, from))) continue;
    await mkdir(join(cache, to, ".."), { recursive: true });
    const r = await execa("cp", ["-al", join(FIXTURES_BUILD_DIR, from), join(cache, to)], { reject: false });
    if (r.exitCode !== 0) await execa("cp", ["-a", join(FIXTURES_BUILD_DIR, from), join(cache, to)]);
  }
  const plain = (await execa("openssl", ["pkey", "-in", SNAKEOIL.key, "-passin", `pass:${SNAKEOIL.password}`])).stdout;
  keyLines = [...(await readFile(SNAKEOIL.key, "utf8")).split("\n"), ...plain.split("\n")]
    .map((l) => l.trim())
    .filter((l) => l.length > 20 && !l.startsWith("-----"));
  expect(keyLines.length).toBeGreaterThan(20);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectNoKey(...texts: string[]): void {
  const all = texts.join("\n");
  for (const line of keyLines) expect(all.includes(line), "key text printed").toBe(false);
  // The key's path names "snakeoil" too: look for the password anywhere else.
  expect(all.split(SNAKEOIL.key).join("").split(SNAKEOIL.cert).join("")).not.toContain(SNAKEOIL.password);
}

const build = (out: string, extra: string[], env: Record<string, string> = ENV) =>
  bootmedia(["boot-image", "build", "--arch", "x64", "--id", "SB64", "--out", out, "--cache-dir", cache, ...extra], {
    env,
  });

describe("bootmedia boot-image build --signing-key (own-key chain)", () => {
  it("a wrong key password is BM3707, exit 1, before anything is built: --out is not even created", async () => {
    const out = join(dir, "wrong-password");
    const r = await build(out, signingFlags("BM_TEST_WRONG_PASSWORD"));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /error BM3707 .*PkKek-1-snakeoil\.key: cannot read the signing key: .*the password is wrong/,
    );
    expect(existsSync(out)).toBe(false);
    expectNoKey(r.stdout, r.stderr);
  });

  it("the key inline instead of by reference is BM1006, its value not echoed", async () => {
    const out = join(dir, "inline");
    const r = await build(out, ["--signing-key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "--signing-cert", SNAKEOIL.cert]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /error BM1006 --signing-key: .*takes env:NAME \(a variable name\) or file:PATH, not the secret itself/,
    );
    expect(r.stderr).not.toContain("MIIEvQ");
    expect(existsSync(out)).toBe(false);
  });

  it("sbsign missing is BM4403 at once (exit 1, nothing written)", async () => {
    const bin = join(dir, "no-sbsign-bin");
    await mkdir(bin, { recursive: true });
    for (const tool of ["sh", "bash"]) await symlink(`/bin/${tool}`, join(bin, tool));
    const out = join(dir, "no-sbsign");
    const r = await execa(
      process.execPath,
      [
        join(process.cwd(), "bin/bootmedia.js"),
        "boot-image",
        "build",
        "--arch",
        "x64",
        "--out",
        out,
        "--cache-dir",
        cache,
        ...signingFlags(),
      ],
      { reject: false, env: { ...ENV, PATH: bin, NO_COLOR: "1" }, extendEnv: false },
    );
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error BM4403 sbsign: sbsign is not installed \(Debian package sbsigntool\)/);
    expect(existsSync(out)).toBe(false);
  });

  it("sbsign failing is BM4404 with its message, exit 1, and no package (not even a half-written one) in --out", async () => {
    const bin = join(dir, "failing-sbsign-bin");
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, "sbsign"), '#!/bin/sh\ncat "$2" >/dev/null\necho "fake sbsign: refused" >&2\nexit 1\n');
    await chmod(join(bin, "sbsign"), 0o755);
    const out = join(dir, "failing-sbsign");
    const r = await build(out, signingFlags(), { ...ENV, PATH: `${bin}:${process.env.PATH}` });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /error BM4404 .*sbsign could not sign the kernel of linux-image-\S+ \S+: fake sbsign: refused/,
    );
    expect(existsSync(join(out, "packages")) ? await readdir(join(out, "packages")) : []).toEqual([]);
    expectNoKey(r.stdout, r.stderr);
  }, 600_000);

  it("signs Debian's kernel with the snakeoil key: Debian's signature kept, both verify, a stranger's certificate does not; a second run is a no-op", async () => {
    const out = join(dir, "signed");
    const r = await build(out, signingFlags());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^built: SB64 \(x64, kernel /);
    expect(r.stdout).toContain(`kernel signed by ${SNAKEOIL_SUBJECT} (added to Debian's signature)`);
    expect(r.stderr).toMatch(
      new RegExp(
        `x64: kernel signed by ${SNAKEOIL_SUBJECT.replaceAll("/", "\\/")} \\(certificate sha256 [0-9a-f]{64}\\); its signatures: /CN=Debian Secure Boot Signer 2022 - linux, `,
      ),
    );
    expectNoKey(r.stdout, r.stderr);

    const kernel = join(out, "packages/SB64/files/boot/x64/vmlinuz");
    expect(await sbverifySubjects(kernel)).toEqual(["/CN=Debian Secure Boot Signer 2022 - linux", SNAKEOIL_SUBJECT]);
    expect(await sbverifyWith(SNAKEOIL.cert, kernel)).toEqual({ exitCode: 0, output: "Signature verification OK" });
    expect(await sbverifyWith(await debianCa(dir), kernel)).toEqual({
      exitCode: 0,
      output: "Signature verification OK",
    });
    const stranger = await sbverifyWith((await otherCertificate(dir)).cert, kernel);
    expect(stranger.exitCode).not.toBe(0);
    expect(stranger.output).toMatch(/Signature verification failed/);
    expect((await execa("file", ["-b", kernel])).stdout).toMatch(/Linux kernel x86 boot executable bzImage/);
    const verify = await bootmedia(["library", "verify", out]);
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);

    const again = await build(out, signingFlags());
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^up to date: SB64/);
    expect(again.stdout).toContain(`kernel signed by ${SNAKEOIL_SUBJECT}`);
    expectNoKey(again.stdout, again.stderr);
  }, 600_000);
});
