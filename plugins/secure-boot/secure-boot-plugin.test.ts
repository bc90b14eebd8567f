/**
 * The validator's Secure Boot rules through the CLI, as users meet them: `plan` with machines on
 * the command line (unsigned media), and builds of the reference media with each chain for
 * Secure Boot machines of either trust (refused ones exit 1 and write no media).
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceImages } from "../../testing/reference-fixtures.ts";
import { bootmedia, ROOT } from "../../testing/cli.ts";
import { otherCertificate } from "../../formats/pe/testing/oracles.ts";
import { buildReference, ownKeyArgs, ownKeyEnv, type Built } from "./testing/chain-media.ts";

const SPEC = join(ROOT, "fixtures/specs/sample-dir.yaml");
const SNAKEOIL_PEM = "/usr/share/ovmf/PkKek-1-snakeoil.pem";

describe("SecureBootPlugin (validate)", () => {
  it("refuses unsigned media for a Secure Boot machine (BM3701), an unreadable trust certificate (BM3705), and leaves Secure Boot off alone", async () => {
    const r = await bootmedia([
      "plan",
      SPEC,
      "--machine",
      "x64-uefi+sb",
      "--machine",
      "x64-uefi:e1000+sb=missing.pem",
      "--machine",
      `x64-uefi+sb=${SNAKEOIL_PEM}`,
      "--machine",
      "x64-uefi",
    ]);
    expect(r.exitCode).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/error BM3701 machines\[0\] \(x64-uefi, Secure Boot\)/);
    expect(out).toMatch(/error BM3705 machines\[1\]/);
    expect(out).toMatch(/error BM3701 machines\[2\]/);
    expect(out).not.toMatch(/machines\[3\]/);
  });

  it("plans the same media for machines without Secure Boot", async () => {
    const r = await bootmedia(["plan", SPEC, "--machine", "x64-uefi"]);
    expect(r.stdout + r.stderr).not.toMatch(/BM37\d\d/);
  });
});

describe("SecureBootPlugin (machines against the built chains, reference media)", () => {
  let work: string;
  let n = 0;
  const build = async (args: string[], env?: Record<string, string>) =>
    buildReference(join(work, `m-${++n}.iso`), join(work, "cache"), args, env);
  const own = async (machine: string) => build([...ownKeyArgs("env"), "--machine", machine], await ownKeyEnv());
  function refused(b: Built, code: string, machine: RegExp): void {
    expect(b.exitCode, b.stderr).toBe(1);
    expect(b.stderr).toMatch(new RegExp(`^error ${code} machines\\[0\\] \\(${machine.source}, Secure Boot\\)`, "m"));
    expect(existsSync(b.out), `${b.out} must not be written`).toBe(false);
  }
  function builds(b: Built): void {
    expect(b.exitCode, b.stderr).toBe(0);
    expect(b.stderr).not.toMatch(/BM37\d\d/);
    expect(existsSync(b.out)).toBe(true);
  }

  beforeAll(async () => {
    await referenceImages();
    work = await mkdtemp(join(tmpdir(), "bm-sb-machines-"));
  }, 600_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("signed chain: a machine trusting Microsoft builds; one trusting only the snakeoil certificate is BM3702", async () => {
    builds(await build(["--secure-boot-chain", "signed", "--machine", "x64-uefi+sb"]));
    builds(await build(["--secure-boot-chain", "signed", "--machine", "x64-uefi+sb=microsoft"]));
    refused(
      await build(["--secure-boot-chain", "signed", "--machine", `x64-uefi+sb=${SNAKEOIL_PEM}`]),
      "BM3702",
      /x64-uefi/,
    );
  });

  it("own-key chain (snakeoil): a machine trusting the snakeoil certificate builds; one trusting Microsoft or another certificate is BM3702", async () => {
    builds(await own(`x64-uefi+sb=${SNAKEOIL_PEM}`));
    refused(await own("x64-uefi+sb=microsoft"), "BM3702", /x64-uefi/);
    refused(await own("x64-uefi+sb"), "BM3702", /x64-uefi/);
    const { cert: other } = await otherCertificate(work);
    refused(await own(`x64-uefi+sb=${other}`), "BM3702", /x64-uefi/);
  });

  it("own-key with the certificate in DER (the spec takes PEM or DER): sbsign gets PEM, the media verify with the certificate, a machine trusting the DER file builds", async () => {
    const der = join(work, "snakeoil.der");
    await execa("openssl", ["x509", "-in", SNAKEOIL_PEM, "-outform", "DER", "-out", der]);
    const args = ownKeyArgs("env");
    args[args.indexOf("--signing-cert") + 1] = der;
    const b = await build([...args, "--machine", `x64-uefi+sb=${der}`], await ownKeyEnv());
    builds(b);
    const shim = join(work, "der-BOOTX64.EFI");
    await execa("xorriso", ["-osirrox", "on", "-indev", b.out, "-extract", "/EFI/BOOT/BOOTX64.EFI", shim], {
      stderr: "ignore",
    });
    expect((await execa("sbverify", ["--cert", SNAKEOIL_PEM, shim])).stdout).toMatch(/^Signature verification OK$/m);
  });

  it("a 32-bit UEFI machine with Secure Boot is BM3704 whatever the chain", async () => {
    refused(await build(["--secure-boot-chain", "signed", "--machine", "x86-uefi+sb"]), "BM3704", /x86-uefi/);
    refused(await own(`x86-uefi+sb=${SNAKEOIL_PEM}`), "BM3704", /x86-uefi/);
  });
});
