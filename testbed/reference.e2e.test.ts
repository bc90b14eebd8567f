/**
 * The testbed against the real boot environment: an ISO assembled with xorriso from the
 * reference boot-image packages (GRUB → Linux → agent → markers → success exit).
 * The reference images are built first if missing (idempotent, locked: `npm run fixtures`).
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTestbed } from "./testbed.ts";
import { makeReferenceIso } from "./testing/reference-media.ts";
import { referenceImages } from "../testing/reference-fixtures.ts";
import type { TestbedReport } from "./report.ts";
import type { CaseResult } from "./runner.ts";

describe("testbed on media built from the reference boot images", () => {
  let root: string;
  let cases: CaseResult[] = [];
  const outcome = (id: string) => {
    const c = cases.find((x) => x.id === id)!;
    return { id, actual: c.actual.status === "pass" ? "pass" : `fail: ${c.actual.reason}`, ok: c.ok };
  };

  beforeAll(async () => {
    await referenceImages();
    root = mkdtempSync(join(tmpdir(), "bm-tb-ref-"));
    const both = await makeReferenceIso(root, "both", ["x86", "x64"]);
    const x64 = await makeReferenceIso(root, "x64", ["x64"]);
    const runs: TestbedReport[] = await Promise.all([
      runTestbed({
        media: [{ kind: "iso", path: both.path, images: ["x86", "x64"], drivers: both.drivers, label: "both" }],
        profiles: ["x86-bios", "x64-uefi"],
        nics: ["e1000", "rtl8139"],
        concurrency: 1,
        reportDir: join(root, "both"),
        timeoutSec: 150,
      }),
      runTestbed({
        media: [{ kind: "iso", path: x64.path, images: ["x64"], drivers: x64.drivers, label: "x64" }],
        profiles: ["x86-bios", "x86-uefi"],
        nics: ["e1000"],
        concurrency: 1,
        reportDir: join(root, "x64"),
        timeoutSec: 60,
      }),
    ]);
    cases = runs.flatMap((r) => r.cases);
  }, 400_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("passes on the agent's done marker and success exit, on BIOS and UEFI", () => {
    expect(outcome("x86-bios.both.e1000")).toEqual({ id: "x86-bios.both.e1000", actual: "pass", ok: true });
    expect(outcome("x64-uefi.both.e1000")).toEqual({ id: "x64-uefi.both.e1000", actual: "pass", ok: true });
    const booted = cases.find((c) => c.id === "x64-uefi.both.e1000")!.markers.find((m) => m.event === "booted");
    expect(booted).toMatchObject({ arch: "x64", firmware: "uefi" });
  });

  it("reads a NIC without driver as the expected no-nic-driver failure", () => {
    expect(outcome("x86-bios.both.rtl8139")).toEqual({
      id: "x86-bios.both.rtl8139",
      actual: "fail: no-nic-driver",
      ok: true,
    });
    expect(outcome("x64-uefi.both.rtl8139")).toEqual({
      id: "x64-uefi.both.rtl8139",
      actual: "fail: no-nic-driver",
      ok: true,
    });
  });

  it("ends refusals fast: GRUB's needs-x64-cpu marker and OVMF's missing boot file", () => {
    const refusal = cases.find((c) => c.id === "x86-bios.x64.e1000")!;
    expect(outcome(refusal.id)).toEqual({ id: refusal.id, actual: "fail: needs-x64-cpu", ok: true });
    const noFile = cases.find((c) => c.id === "x86-uefi.x64.e1000")!;
    expect(outcome(noFile.id)).toEqual({ id: noFile.id, actual: "fail: no-boot-file", ok: true });
    // Far below any timeout: the verdict comes from the signature, not from waiting.
    expect(refusal.timings.verdictMs).toBeLessThan(15_000);
    expect(noFile.timings.verdictMs).toBeLessThan(30_000);
  });
});
