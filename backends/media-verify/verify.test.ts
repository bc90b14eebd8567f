/**
 * `bootmedia verify` on the reference ISO (Debian's signed chain) built with a signed
 * provenance: it passes, and each bad input fails with its code — a medium one byte changed,
 * a statement of another medium, a signature by another key, an unsigned statement, a file
 * cut short, nested too deep or 50 MB. The DSSE signature is checked once by openssl over the
 * PAE bytes, rebuilt here from the DSSE spec (Ed25519: `pkeyutl -rawin`; P-256: `dgst -sha256`).
 * `inspect` and `diff` read the SBOMs beside the media.
 */
import { execFileSync } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootmedia, ROOT } from "../../testing/cli.ts";
import { referenceImages } from "../../testing/reference-fixtures.ts";

const SPEC = join(ROOT, "fixtures/specs/reference.yaml");
let work: string;
const at = (name: string) => join(work, name);

function keyPair(name: string, algorithm: string[]): void {
  execFileSync("openssl", ["genpkey", ...algorithm, "-out", at(`${name}.key`)]);
  execFileSync("openssl", ["pkey", "-in", at(`${name}.key`), "-pubout", "-out", at(`${name}.pub`)]);
}

async function build(out: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  const r = await bootmedia(
    ["build", SPEC, "--secure-boot-chain", "signed", "--out", out, "--cache-dir", at("cache"), ...args],
    { env: { SOURCE_DATE_EPOCH: "1700000000", ...env } },
  );
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toContain("PRIVATE KEY");
}

beforeAll(async () => {
  await referenceImages();
  work = await mkdtemp(join(tmpdir(), "bm-verify-"));
  keyPair("ed", ["-algorithm", "ed25519"]);
  keyPair("ec", ["-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
  await build(at("ref.iso"), ["--attest-key", `file:${at("ed.key")}`]);
  // The same spec for x64 only: another medium, signed with the same key.
  await build(
    at("other.iso"),
    ["--boot-image", "BM100064", "--machine", "x64-uefi", "--attest-key", "env:BM_TEST_ATTEST"],
    {
      BM_TEST_ATTEST: await readFile(at("ec.key"), "utf8"),
    },
  );
  await build(at("unsigned.iso"), []);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const verify = (media: string, ...args: string[]) => bootmedia(["verify", media, ...args]);

function refused(r: { exitCode?: number; stdout: string; stderr: string }, code: string): void {
  expect(r.exitCode, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^error ${code} `, "m"));
  expect(r.stderr).toMatch(/hint: /);
  expect(r.stdout).not.toMatch(/verified/);
}

describe("bootmedia verify", () => {
  it("passes on the medium with its SBOM and signed provenance beside it", async () => {
    const r = await verify(at("ref.iso"), "--key", at("ed.pub"));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ok {2}provenance .*signature verifies; subject is this medium/);
    expect(r.stdout).toMatch(/ok {2}sbom .*the signed provenance vouches for its bytes/);
    const other = await verify(at("other.iso"), "--key", at("ec.pub"));
    expect(other.exitCode, other.stderr).toBe(0);
  });

  it("refuses a medium one byte changed (BM6008)", async () => {
    await copyFile(at("ref.iso"), at("tampered.iso"));
    execFileSync("sh", ["-c", `printf 'X' | dd of='${at("tampered.iso")}' bs=1 seek=40000 conv=notrunc 2>/dev/null`]);
    refused(
      await verify(at("tampered.iso"), "--key", at("ed.pub"), "--provenance", `${at("ref.iso")}.intoto.json`),
      "BM6008",
    );
    refused(await verify(at("tampered.iso"), "--key", at("ed.pub"), "--sbom", `${at("ref.iso")}.cdx.json`), "BM6008");
  });

  it("refuses another medium's statement (BM6008) and a signature by another key (BM6007)", async () => {
    refused(
      await verify(at("ref.iso"), "--key", at("ec.pub"), "--provenance", `${at("other.iso")}.intoto.json`),
      "BM6008",
    );
    refused(await verify(at("ref.iso"), "--key", at("ec.pub")), "BM6007");
  });

  it("refuses an unsigned statement when a key is given (BM6009), and an SBOM the signed provenance does not list (BM6007)", async () => {
    refused(await verify(at("unsigned.iso"), "--key", at("ed.pub")), "BM6009");
    const sbom = JSON.parse(await readFile(`${at("ref.iso")}.cdx.json`, "utf8"));
    sbom.components[0].version = "9.9";
    await writeFile(at("edited.cdx.json"), JSON.stringify(sbom, null, 2));
    refused(await verify(at("ref.iso"), "--key", at("ed.pub"), "--sbom", at("edited.cdx.json")), "BM6007");
  });

  it("refuses a statement cut short (BM6004), nested too deep (BM6005) or of 50 MB (BM6005), reading nothing of it", async () => {
    const text = await readFile(`${at("ref.iso")}.intoto.json`, "utf8");
    await writeFile(at("cut.json"), text.slice(0, text.length / 2));
    refused(await verify(at("ref.iso"), "--key", at("ed.pub"), "--provenance", at("cut.json")), "BM6004");
    await writeFile(at("deep.json"), `${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    refused(await verify(at("ref.iso"), "--key", at("ed.pub"), "--provenance", at("deep.json")), "BM6005");
    refused(await verify(at("ref.iso"), "--key", at("ed.pub"), "--sbom", at("deep.json")), "BM6005");
    await writeFile(at("big.json"), `{"payloadType":"${"A".repeat(50 * 1024 * 1024)}"}`);
    refused(await verify(at("ref.iso"), "--key", at("ed.pub"), "--sbom", at("big.json")), "BM6005");
    refused(await verify(at("ref.iso"), "--key", at("ed.pub"), "--provenance", at("big.json")), "BM6005");
  });
});

/** PAE(type, body) from the DSSE spec, written here, not taken from bootmedia. */
const paeOf = (type: string, body: Buffer) =>
  Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);

describe("the DSSE signature, checked by openssl over the PAE bytes", () => {
  it("Ed25519 (openssl pkeyutl -verify -rawin) and ECDSA P-256 (openssl dgst -sha256 -verify)", async () => {
    for (const [media, key] of [
      ["ref.iso", "ed"],
      ["other.iso", "ec"],
    ] as const) {
      const env = JSON.parse(await readFile(`${at(media)}.intoto.json`, "utf8"));
      expect(env.payloadType).toBe("application/vnd.in-toto+json");
      await writeFile(at(`${key}.pae`), paeOf(env.payloadType, Buffer.from(env.payload, "base64")));
      await writeFile(at(`${key}.sig`), Buffer.from(env.signatures[0].sig, "base64"));
      const args =
        key === "ed"
          ? [
              "pkeyutl",
              "-verify",
              "-pubin",
              "-inkey",
              at("ed.pub"),
              "-rawin",
              "-in",
              at("ed.pae"),
              "-sigfile",
              at("ed.sig"),
            ]
          : ["dgst", "-sha256", "-verify", at("ec.pub"), "-signature", at("ec.sig"), at("ec.pae")];
      expect(execFileSync("openssl", args, { encoding: "utf8" })).toMatch(
        /Verified OK|Signature Verified Successfully/,
      );
      // One byte of the payload changed: openssl refuses (the check can fail).
      const bad = Buffer.from(env.payload, "base64");
      bad[10] ^= 1;
      await writeFile(at(`${key}.pae`), paeOf(env.payloadType, bad));
      expect(() => execFileSync("openssl", args, { stdio: "pipe" })).toThrow();
    }
  });
});

describe("inspect and diff read the SBOMs beside the media", () => {
  it("inspect prints the packages and versions; diff the version changes", async () => {
    const i = await bootmedia(["inspect", at("ref.iso")]);
    expect(i.exitCode, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/^SBOM \(.*ref\.iso\.cdx\.json, CycloneDX 1\.6/m);
    expect(i.stdout).toMatch(/^ {4}shim-signed:amd64 {2}\S+$/m);
    expect(i.stdout).toMatch(/^ {2}package BM100064 {2}Reference boot image \(x64\) {2}\S+$/m);
    const d = await bootmedia(["diff", at("ref.iso"), at("other.iso")]);
    expect(d.exitCode).toBe(1);
    // The x86 image and its i386 packages are on ref.iso only.
    expect(d.stdout).toMatch(/^ {2}package:BM100086: \S+ -> \(absent\)$/m);
    expect(d.stdout).toMatch(/^ {2}deb:busybox-static:i386: \S+ -> \(absent\)$/m);
    expect(d.stdout).not.toMatch(/deb:busybox-static:amd64/);
  });
});
