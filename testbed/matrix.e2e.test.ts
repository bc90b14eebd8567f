/**
 * The nightly matrix, in the normal test run: media built by our own CLI from the
 * reference boot images — x86 only, x64 only, both — as ISO and as USB image, booted on
 * every machine profile; and x64 media with each Secure Boot chain bootmedia builds (signed,
 * own-key with the snakeoil key the x64-uefi-sb-own firmware trusts) on the x64 profiles.
 * Every case's expected verdict comes from core/compat.ts and core/secure-boot.ts; a case
 * that boots where the rules say it must not (or the reverse) fails the test.
 */
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bootmedia, ROOT } from "../testing/cli.ts";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { PROFILE_IDS, PROFILES } from "./profiles.ts";
import { describeMedia } from "./media-from-inputs.ts";
import { runTestbed } from "./testbed.ts";
import type { MediaUnderTest } from "./matrix.ts";

const SPEC = join(ROOT, "fixtures/specs/reference.yaml");
const SETS = {
  x86: { bootImage: "BM100086", machines: ["x86-bios", "x64-bios", "x86-uefi"] },
  x64: { bootImage: "BM100064", machines: ["x64-bios", "x64-uefi"] },
  both: { bootImage: "BM100086,BM100064", machines: ["x86-bios", "x64-bios", "x86-uefi", "x64-uefi"] },
} as const;

/** The Secure Boot chains, each with the flags that build it and the machine the spec names. */
const SNAKEOIL = PROFILES["x64-uefi-sb-own"].secureBoot;
const CHAINS = {
  signed: { flags: ["--secure-boot-chain", "signed"], machine: "x64-uefi:e1000+sb" },
  ownkey: {
    flags: [
      "--secure-boot-chain",
      "own-key",
      "--signing-key",
      `file:${SNAKEOIL.key}`,
      "--signing-key-password",
      "env:BM_TEST_SIGNING_PASSWORD",
      "--signing-cert",
      SNAKEOIL.certificate,
    ],
    machine: `x64-uefi:e1000+sb=${SNAKEOIL.certificate}`,
  },
} as const;
const CHAIN_PROFILES = ["x64-bios", "x64-uefi", "x64-uefi-sb-ms", "x64-uefi-sb-own"] as const;

let work: string;
const media: MediaUnderTest[] = [];
const chainMedia: MediaUnderTest[] = [];
const env = { SOURCE_DATE_EPOCH: "1764000000", BM_TEST_SIGNING_PASSWORD: SNAKEOIL.password };

beforeAll(async () => {
  await referenceImages();
  work = await mkdtemp(join(tmpdir(), "bm-matrix-"));
  for (const [set, { bootImage, machines }] of Object.entries(SETS)) {
    for (const kind of ["iso", "usb"] as const) {
      const out = join(work, `${set}.${kind === "iso" ? "iso" : "img"}`);
      const args = [
        "build",
        SPEC,
        "--boot-image",
        bootImage,
        "--target",
        kind,
        "--out",
        out,
        "--quiet",
        ...machines.flatMap((m) => ["--machine", `${m}:e1000`]),
      ];
      const r = await bootmedia(args, { env });
      if (r.exitCode !== 0) throw new Error(`building ${set} ${kind} failed: ${r.stderr}`);
      media.push(await describeMedia(out, `${set}-${kind}`));
    }
  }
  for (const [chain, { flags, machine }] of Object.entries(CHAINS)) {
    for (const kind of ["iso", "usb"] as const) {
      const out = join(work, `${chain}.${kind === "iso" ? "iso" : "img"}`);
      const r = await bootmedia(
        [
          "build",
          SPEC,
          "--boot-image",
          SETS.x64.bootImage,
          "--target",
          kind,
          "--out",
          out,
          "--quiet",
          "--machine",
          "x64-bios:e1000",
          "--machine",
          machine,
          ...flags,
        ],
        { env },
      );
      if (r.exitCode !== 0) throw new Error(`building the ${chain} chain ${kind} failed: ${r.stderr}`);
      chainMedia.push(await describeMedia(out, `${chain}-${kind}`));
    }
  }
}, 600_000);

describe("boot compatibility matrix (x86/x64 images × BIOS/UEFI machines × ISO/USB)", () => {
  it("every case matches the rules, refusals end by signature, not timeout", async () => {
    const reportDir = join(work, "report");
    const report = await runTestbed({ media, profiles: [...PROFILE_IDS], nics: ["e1000"], concurrency: 2, reportDir });
    const lines = report.cases.map(
      (c) =>
        `${c.ok ? "ok" : "MISMATCH"} ${c.id} expected ${JSON.stringify(c.expected)} got ${JSON.stringify(c.actual)}`,
    );
    expect(report.summary.total).toBe(PROFILE_IDS.length * 6);
    expect(report.summary.mismatched, lines.join("\n")).toBe(0);
    const refusals = report.cases.filter((c) => c.expected.status === "fail");
    expect(refusals.map((c) => c.id).sort()).toEqual(
      [
        "x64-uefi.x86-iso.e1000",
        "x64-uefi.x86-usb.e1000",
        "x86-bios.x64-iso.e1000",
        "x86-bios.x64-usb.e1000",
        "x86-uefi.x64-iso.e1000",
        "x86-uefi.x64-usb.e1000",
        // Without secureBoot.chain the media's GRUB is bootmedia's, unsigned: both Secure Boot profiles refuse every media (x86-only media have no x64 boot file at all).
        ...["x64-uefi-sb-ms", "x64-uefi-sb-own"].flatMap((p) =>
          ["both", "x64", "x86"].flatMap((m) => [`${p}.${m}-iso.e1000`, `${p}.${m}-usb.e1000`]),
        ),
      ].sort(),
    );
    for (const c of refusals)
      expect(c.actual, c.id).toMatchObject({
        status: "fail",
        reason: c.expected.status === "fail" ? c.expected.reason : "",
      });
    for (const f of ["results.json", "junit.xml", "index.html"]) expect(existsSync(join(reportDir, f)), f).toBe(true);
  }, 1_800_000);
});

describe("Secure Boot chains (x64 media × x64 profiles × ISO/USB)", () => {
  it("signed media start where Microsoft's CA is trusted, own-key media where the snakeoil key is; each is refused by the other's firmware by signature", async () => {
    const report = await runTestbed({
      media: chainMedia,
      profiles: [...CHAIN_PROFILES],
      nics: ["e1000"],
      concurrency: 2,
      reportDir: join(work, "report-chains"),
    });
    const lines = report.cases.map(
      (c) =>
        `${c.ok ? "ok" : "MISMATCH"} ${c.id} expected ${JSON.stringify(c.expected)} got ${JSON.stringify(c.actual)}`,
    );
    expect(report.summary.total).toBe(CHAIN_PROFILES.length * 4);
    expect(report.summary.mismatched, lines.join("\n")).toBe(0);
    // The expectations come from the rules reading the media; written out here as well.
    const refused = report.cases
      .filter((c) => c.expected.status === "fail")
      .map((c) => c.id)
      .sort();
    expect(refused).toEqual([
      "x64-uefi-sb-ms.ownkey-iso.e1000",
      "x64-uefi-sb-ms.ownkey-usb.e1000",
      "x64-uefi-sb-own.signed-iso.e1000",
      "x64-uefi-sb-own.signed-usb.e1000",
    ]);
    for (const c of report.cases.filter((x) => x.expected.status === "fail"))
      expect(c.actual, c.id).toMatchObject({ status: "fail", reason: "secure-boot-refused" });
    // Under Secure Boot the kernel is locked down: the pass is the agent's done marker naming its power-off.
    for (const c of report.cases.filter((x) => x.expected.status === "pass" && x.profile.includes("-sb-"))) {
      expect(
        c.markers.find((m) => (m as { event?: string }).event === "done"),
        c.id,
      ).toMatchObject({ exit: "poweroff", lockdown: "integrity" });
    }
  }, 1_800_000);
});

describe("NIC drivers", () => {
  it("the validator rejects a machine whose NIC driver the boot image lacks", async () => {
    const r = await bootmedia(["plan", SPEC, "--machine", "x64-bios:8139too", "--json"], { env });
    expect(r.exitCode).toBe(1);
    const d = JSON.parse(r.stdout).diagnostics.find((x: { code: string }) => x.code === "BM3004");
    expect(d.message).toContain("8139too");
  });

  it("built without that check, the media fails at boot with the drivers marker", async () => {
    const both = media.find((m) => m.label === "both-iso")!;
    const report = await runTestbed({
      media: [both],
      profiles: ["x64-bios"],
      nics: ["rtl8139"],
      concurrency: 1,
      reportDir: join(work, "report-nic"),
    });
    const c = report.cases[0]!;
    expect(c.expected).toEqual({ status: "fail", reason: "no-nic-driver" });
    expect(c.actual).toMatchObject({ status: "fail", reason: "no-nic-driver" });
    expect(c.markers.some((m) => (m as { event?: string }).event === "drivers")).toBe(true);
  }, 600_000);
});
