/**
 * Boots GRUB test media (testbed/test-media.ts) on every machine profile, as CD and as USB
 * stick, through the real testbed: two shards in parallel, then merged. QEMU under TCG.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execa } from "execa";
import { mkdtempSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTestbed, mergeReports, type TestbedEvent } from "./testbed.ts";
import { PROFILE_IDS } from "./profiles.ts";
import { makeGrubTestMedia } from "./testing/media.ts";
import type { MediaUnderTest } from "./matrix.ts";
import type { TestbedReport } from "./report.ts";

const PASS = "pass";
// What each profile must do with each media, written out by hand from the boot rules in docs/design-decisions.md.
const EXPECTED: Record<string, { both: string; x64: string }> = {
  "x86-bios": { both: PASS, x64: "fail: needs-x64-cpu" },
  "x64-bios": { both: PASS, x64: PASS },
  "x86-uefi": { both: PASS, x64: "fail: no-boot-file" },
  "x64-uefi": { both: PASS, x64: PASS },
  // grub-mkrescue's GRUB is unsigned: the firmware refuses it by signature.
  "x64-uefi-sb-ms": { both: "fail: secure-boot-refused", x64: "fail: secure-boot-refused" },
  "x64-uefi-sb-own": { both: "fail: secure-boot-refused", x64: "fail: secure-boot-refused" },
};

describe("testbed on GRUB test media", () => {
  let root: string;
  let media: MediaUnderTest[];
  let merged: TestbedReport;
  const events: TestbedEvent[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "bm-tb-e2e-"));
    const both = await makeGrubTestMedia(root, "both", ["x86", "x64"]);
    const x64 = await makeGrubTestMedia(root, "x64", ["x64"]);
    media = [
      { kind: "iso", path: both, images: ["x86", "x64"], drivers: ["e1000"], label: "both" },
      { kind: "usb", path: x64, images: ["x64"], drivers: ["e1000"], label: "x64" },
    ];
    const shards = [1, 2].map((index) =>
      runTestbed({
        media,
        nics: ["e1000"],
        concurrency: 1,
        shard: { index, count: 2 },
        reportDir: join(root, `shard-${index}`),
        timeoutSec: 90,
        silenceSec: 45,
        onEvent: (e) => events.push(e),
      }),
    );
    const parts = await Promise.all(shards);
    expect(parts.map((p) => p.cases.length)).toEqual([PROFILE_IDS.length, PROFILE_IDS.length]);
    merged = await mergeReports([join(root, "shard-1"), join(root, "shard-2")], join(root, "merged"));
  }, 240_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each(PROFILE_IDS)("%s boots or refuses each media as the rules say", (profile) => {
    for (const label of ["both", "x64"] as const) {
      const c = merged.cases.find((x) => x.id === `${profile}.${label}.e1000`)!;
      const actual = c.actual.status === "pass" ? PASS : `fail: ${c.actual.reason}`;
      expect({ id: c.id, actual, ok: c.ok }).toEqual({ id: c.id, actual: EXPECTED[profile][label], ok: true });
      expect(existsSync(join(root, "merged", c.serialLog))).toBe(true);
      if (c.actual.status === "pass") {
        expect(c.exitStatus).toBe(99);
        expect(c.markers.map((m) => m.event)).toContain("booted");
      }
    }
  });

  it("keeps each case's last screen as a real PNG", async () => {
    // The testbed stops failing cases itself, so their screen is always taken; a pass exits
    // by itself and may beat the screenshot (best effort), so only its format is checked.
    for (const c of merged.cases.filter((x) => x.actual.status === "fail")) expect(c.screenshot, c.id).not.toBeNull();
    const shots = merged.cases.map((c) => c.screenshot).filter((s): s is string => s !== null);
    // `file` is the independent oracle for the format.
    const { stdout } = await execa("file", ["-b", ...shots.map((s) => join(root, "merged", s))]);
    for (const line of stdout.split("\n")) expect(line).toMatch(/^PNG image data, \d+ x \d+/);
  });

  it("reports the matrix and each case through onEvent, and writes all three report files", () => {
    const total = PROFILE_IDS.length * 2;
    expect(events.filter((e) => e.type === "case-end")).toHaveLength(total);
    expect(events.filter((e) => e.type === "matrix").map((e) => (e as { total: number }).total)).toEqual([
      total,
      total,
    ]);
    for (const f of ["results.json", "junit.xml", "index.html"]) expect(existsSync(join(root, "merged", f))).toBe(true);
    expect(JSON.parse(readFileSync(join(root, "merged", "results.json"), "utf8")).summary).toEqual({
      total,
      ok: total,
      mismatched: 0,
    });
  });

  it("fails fast on silence and lets a timeout outrank everything", async () => {
    const uefi = { media: [media[0]], profiles: ["x64-uefi" as const], nics: ["e1000"], concurrency: 1 };
    // OVMF needs seconds before its first serial byte: 1 s of silence is a failure.
    const silent = await runTestbed({ ...uefi, reportDir: join(root, "silent"), timeoutSec: 60, silenceSec: 1 });
    expect(silent.cases[0].actual).toMatchObject({ status: "fail", reason: "no-serial-output" });
    expect(silent.cases[0].timings.verdictMs).toBeLessThan(5000);
    const late = await runTestbed({ ...uefi, reportDir: join(root, "late"), timeoutSec: 1, silenceSec: 30 });
    expect(late.cases[0].actual).toMatchObject({ status: "fail", reason: "timeout" });
    expect(late.cases[0].ok).toBe(false);
  }, 60_000);
});
