/**
 * The Secure Boot refusals the nightly matrix does not meet (testbed/matrix.e2e.test.ts boots
 * the signed and own-key chains bootmedia builds, and its unsigned media, on both Secure Boot
 * profiles): media signed with a key no firmware trusts, and a signed chain whose kernel lost
 * its signature (made by replacing the kernel of bootmedia's signed media with xorriso, since
 * bootmedia refuses to build it: BM3703); and the own-key chain with a kernel signed by the
 * user's key alone (shim starts it through db). Every expected verdict comes from core/secure-boot.ts
 * reading the media; refusals must end by signature well before the case timeout.
 */
import { execa } from "execa";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { otherCertificate, plainSnakeoilKey, sbsign } from "../formats/pe/testing/oracles.ts";
import { bootmedia, ROOT } from "../testing/cli.ts";
import { buildMatrix, type TestCase } from "./matrix.ts";
import { describeMedia } from "./media-from-inputs.ts";
import { PROFILES } from "./profiles.ts";
import { runCase } from "./runner.ts";

const SPEC = join(ROOT, "fixtures/specs/reference.yaml");
const PROFILE_SET = ["x64-uefi", "x64-uefi-sb-ms", "x64-uefi-sb-own"] as const;
const SNAKEOIL = PROFILES["x64-uefi-sb-own"].secureBoot;
/**
 * A refusal by signature comes within seconds of power-on (bench:testbed times it); here it must
 * only come well before the case timeout, since TCG on a loaded 2-core machine is slow (40 s seen at load 13).
 */
const CASE_TIMEOUT_SEC = 180;
const REFUSAL_LIMIT_SEC = 90;

let work: string;
let cases: TestCase[] = [];

async function build(out: string, flags: string[], env: Record<string, string> = {}): Promise<void> {
  const r = await bootmedia(
    [
      "build",
      SPEC,
      "--boot-image",
      "BM100064",
      "--target",
      "iso",
      "--out",
      out,
      "--quiet",
      "--machine",
      "x64-uefi:e1000",
      ...flags,
    ],
    { env: { SOURCE_DATE_EPOCH: "1764000000", ...env } },
  );
  if (r.exitCode !== 0) throw new Error(`building ${out} failed: ${r.stderr}`);
}

/** `iso` with its x64 kernel replaced by `kernel`, written to `out` with xorriso (El Torito and system area replayed). */
async function replaceKernel(iso: string, kernel: string, out: string): Promise<void> {
  // xorriso ends with SORRY (exit 32: it cannot replay the hybrid MBR partition of boot/efi.img without GPT), yet writes the ISO.
  const x = await execa(
    "xorriso",
    ["-indev", iso, "-outdev", out, "-boot_image", "any", "replay", "-map", kernel, "/boot/x64/vmlinuz"],
    { reject: false },
  );
  if (![0, 32].includes(x.exitCode ?? -1)) throw new Error(`xorriso: ${x.stderr}`);
}

beforeAll(async () => {
  await referenceImages();
  work = await mkdtemp(join(tmpdir(), "bm-sb-e2e-"));
  // A key and certificate no firmware has enrolled.
  const { key, cert } = await otherCertificate(work, "nobody-trusts");
  const otherKey = join(work, "other-key.iso");
  await build(otherKey, ["--secure-boot-chain", "own-key", "--signing-key", `file:${key}`, "--signing-cert", cert]);
  // The signed chain with the kernel's signatures removed (sbattach), put back with xorriso.
  const signed = join(work, "signed.iso");
  await build(signed, ["--secure-boot-chain", "signed"]);
  const kernel = join(work, "vmlinuz");
  await execa("osirrox", ["-indev", signed, "-extract", "/boot/x64/vmlinuz", kernel]);
  await execa("chmod", ["u+w", kernel]);
  await execa("sbattach", ["--remove", kernel]);
  const bareKernel = join(work, "bare-kernel.iso");
  await replaceKernel(signed, kernel, bareKernel);
  // The own-key chain (snakeoil) with a kernel signed by the snakeoil key alone: shim can start
  // it only through db, not through its vendor certificate (Debian's signature is gone).
  const ownKey = join(work, "own-key.iso");
  await build(
    ownKey,
    [
      "--secure-boot-chain",
      "own-key",
      "--signing-key",
      `file:${SNAKEOIL.key}`,
      "--signing-key-password",
      "env:BM_TEST_SIGNING_PASSWORD",
      "--signing-cert",
      SNAKEOIL.certificate,
    ],
    { BM_TEST_SIGNING_PASSWORD: SNAKEOIL.password },
  );
  const ownKernel = join(work, "vmlinuz.own");
  await sbsign(kernel, ownKernel, await plainSnakeoilKey(join(work, "snakeoil.key")));
  const ownKeyKernel = join(work, "own-key-kernel.iso");
  await replaceKernel(ownKey, ownKernel, ownKeyKernel);
  cases = buildMatrix(
    [
      await describeMedia(otherKey, "other-key"),
      await describeMedia(bareKernel, "bare-kernel"),
      await describeMedia(ownKeyKernel, "own-key-kernel"),
    ],
    PROFILE_SET,
    ["e1000"],
  );
}, 600_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("Secure Boot refusals", () => {
  it("has the verdicts the rules give, by hand", () => {
    expect(
      Object.fromEntries(cases.map((c) => [c.id, c.expected.status === "pass" ? "pass" : c.expected.reason])),
    ).toEqual({
      "x64-uefi-sb-ms.other-key.e1000": "secure-boot-refused",
      "x64-uefi-sb-ms.bare-kernel.e1000": "secure-boot-refused",
      "x64-uefi-sb-own.other-key.e1000": "secure-boot-refused",
      "x64-uefi-sb-own.bare-kernel.e1000": "secure-boot-refused",
      "x64-uefi-sb-ms.own-key-kernel.e1000": "secure-boot-refused",
      "x64-uefi-sb-own.own-key-kernel.e1000": "pass",
      "x64-uefi.other-key.e1000": "pass",
      "x64-uefi.bare-kernel.e1000": "pass",
      "x64-uefi.own-key-kernel.e1000": "pass",
    });
  });

  it(
    "boots every case: the firmware refuses the untrusted key, GRUB (through shim) the unsigned kernel, both within seconds; a kernel signed by the db key alone starts",
    async () => {
      const rows: string[] = [];
      // Who refuses: the firmware for a boot file it does not trust, GRUB for a kernel shim does not verify.
      const refusedBy: Record<string, RegExp> = {
        "x64-uefi-sb-ms.other-key.e1000": /^uefi-access-denied: /,
        "x64-uefi-sb-own.other-key.e1000": /^uefi-access-denied: /,
        "x64-uefi-sb-own.bare-kernel.e1000": /^uefi-access-denied: /,
        "x64-uefi-sb-ms.bare-kernel.e1000": /^grub-secure-boot-refused: error: bad shim signature/,
        "x64-uefi-sb-ms.own-key-kernel.e1000": /^uefi-access-denied: /,
      };
      for (const c of cases) {
        const r = await runCase(c, {
          reportDir: join(work, "cases"),
          accel: "tcg",
          timeoutSec: CASE_TIMEOUT_SEC,
          silenceSec: 60,
        });
        const secs = r.timings.verdictMs / 1000;
        rows.push(
          `${c.id.padEnd(36)} expected ${c.expected.status === "pass" ? "pass" : c.expected.reason}, got ${r.actual.status === "pass" ? "pass" : r.actual.reason} in ${secs.toFixed(1)} s`,
        );
        if (c.expected.status === "fail") {
          expect(r.actual, c.id).toMatchObject({ status: "fail", reason: "secure-boot-refused" });
          expect((r.actual as { detail: string }).detail, c.id).toMatch(refusedBy[c.id]!);
          expect(secs, c.id).toBeLessThan(REFUSAL_LIMIT_SEC);
        } else {
          expect(r.actual, c.id).toEqual({ status: "pass" });
        }
      }
      console.log(rows.join("\n"));
    },
    15 * 60_000,
  );
});
