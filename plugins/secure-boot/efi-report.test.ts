/**
 * inspect's Secure Boot report on one ISO per chain (unsigned, own-key with the snakeoil key,
 * signed shim + Debian GRUB): the EFI binaries found inside the El Torito EFI image, their
 * signers against sbverify --list on the files mtools extracts, and the chain named. sbverify
 * --cert is the independent check that the own-key binary verifies with the user's certificate.
 */
import { execa } from "execa";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { otherCertificate, sbverifySubjects } from "../../formats/pe/testing/oracles.ts";
import { builtinInspectors } from "../builtin.ts";
import { openMedia } from "../media-manifest/open-media.ts";
import { formatSecureBoot, reportSecureBoot } from "./efi-report.ts";
import { certificateSha256 } from "./trust.ts";
import { readFile } from "node:fs/promises";
import { makeSecureBootTestMedia } from "./testing/secure-boot-media.ts";

const SNAKEOIL = {
  key: "/usr/share/ovmf/PkKek-1-snakeoil.key",
  cert: "/usr/share/ovmf/PkKek-1-snakeoil.pem",
  password: "snakeoil",
};
const CHAINS = ["unsigned", "own-key", "signed"] as const;
let work: string;
const isos: Record<string, string> = {};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-sb-report-"));
  for (const c of CHAINS) isos[c] = await makeSecureBootTestMedia(work, c, c, SNAKEOIL);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The ESP's EFI/BOOT files, extracted by xorriso and mtools (not our readers). */
async function extractEfiBoot(iso: string, name: string): Promise<Record<string, string>> {
  const esp = join(work, `${name}.esp`);
  await execa("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/boot/efi.img", esp], { stderr: "ignore" });
  const { stdout } = await execa("mdir", ["-b", "-i", esp, "::/EFI/BOOT"]);
  const out: Record<string, string> = {};
  for (const p of stdout.split("\n").filter(Boolean)) {
    const file = p.split("/").pop()!;
    const dest = join(work, `${name}-${file}`);
    await execa("mcopy", ["-n", "-i", esp, `::/EFI/BOOT/${file}`, dest]);
    out[file.toUpperCase()] = dest;
  }
  return out;
}

describe("reportSecureBoot", () => {
  it.each(CHAINS)("%s: binaries, signers (as sbverify lists them) and chain", async (chain) => {
    const media = await openMedia(isos[chain], await builtinInspectors());
    const report = await reportSecureBoot(media);
    const files = await extractEfiBoot(isos[chain], chain);
    expect(report.binaries.map((b) => b.path.split("/").pop()!.toUpperCase()).sort()).toEqual(
      Object.keys(files).sort(),
    );
    for (const b of report.binaries)
      expect(b.signers).toEqual(await sbverifySubjects(files[b.path.split("/").pop()!.toUpperCase()]));
    expect(report.chains).toHaveLength(1);
    expect(report.chains[0].chain).toBe(chain);
    expect(formatSecureBoot(report)).toContain(`: ${chain} (`);
  });

  it("own-key binaries verify with the user's certificate and not with another (sbverify --cert)", async () => {
    const files = await extractEfiBoot(isos["own-key"], "own-verify");
    const ok = await execa("sbverify", ["--cert", SNAKEOIL.cert, files["BOOTX64.EFI"]], { reject: false });
    expect(ok.stdout + ok.stderr).toContain("Signature verification OK");
    const { cert: other } = await otherCertificate(work);
    const bad = await execa("sbverify", ["--cert", other, files["BOOTX64.EFI"]], { reject: false });
    expect(bad.exitCode).not.toBe(0);
  });

  it("the signed chain's GRUB is Debian's, with SBAT generations at or above the recorded levels", async () => {
    const report = await reportSecureBoot(await openMedia(isos.signed, await builtinInspectors()));
    const grub = report.binaries.find((b) => /grubx64\.efi$/i.test(b.path))!;
    expect(grub.signers).toEqual(["/CN=Debian Secure Boot Signer 2022 - grub2"]);
    expect(grub.sbat.find((e) => e.component === "grub")).toBeDefined();
    expect(grub.revoked).toEqual([]);
  });

  it("names the chain for the testbed: unsigned, signed, own-key with the signer's certificate; a kernel counts as signed only by the same key", async () => {
    const chainOf = async (c: string, kernels: string[] = []) => {
      const media = await openMedia(isos[c], await builtinInspectors());
      return (
        await reportSecureBoot(
          media,
          kernels.map((path) => ({ path, arch: "x64" })),
        )
      ).mediaChain;
    };
    const snakeoil = certificateSha256(await readFile(SNAKEOIL.cert));
    expect(await chainOf("unsigned")).toEqual({ chain: "unsigned", kernelSigned: false });
    expect(await chainOf("signed")).toMatchObject({ chain: "signed" });
    expect(await chainOf("own-key")).toEqual({ chain: "own-key", signerSha256: snakeoil, kernelSigned: false });
    // The placeholder kernel is no PE image: not signed.
    expect(await chainOf("own-key", ["boot/x64/vmlinuz"])).toMatchObject({ kernelSigned: false });
  });
});
