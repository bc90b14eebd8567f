/**
 * Pass patterns against real QEMU: GRUB media that print one text on the serial line and
 * another on the screen, then wait like an installer at its first question (no marker,
 * no success exit). A screen pattern reads the VGA text buffer on BIOS; on UEFI the screen
 * is a framebuffer, so only the serial pattern can judge there, and the timeout says why.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTestbed } from "./testbed.ts";
import { makeGrubScreenMedia } from "./testing/media.ts";
import type { TestbedReport } from "./report-model.ts";

const TEXT = { serial: "Installer console ready on ttyS0", screen: "Welcome to the screen-only installer" };

describe("pass patterns in QEMU", () => {
  const root = mkdtempSync(join(tmpdir(), "bm-pass-e2e-"));
  let report: TestbedReport;
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeAll(async () => {
    const path = await makeGrubScreenMedia(root, "installer", TEXT);
    const base = { kind: "iso" as const, path, images: ["x64" as const], drivers: ["e1000"] };
    report = await runTestbed({
      media: [
        { ...base, label: "screen", pass: { screen: "Welcome to the screen-only" }, memoryMiB: 1024 },
        { ...base, label: "serial", pass: { serial: "console ready on ttyS0" } },
        // The serial text never reaches the screen, nor the screen text the serial line.
        { ...base, label: "crossed", pass: { screen: "console ready on ttyS0", serial: "screen-only installer" } },
      ],
      profiles: ["x64-bios", "x64-uefi"],
      nics: ["e1000"],
      reportDir: join(root, "report"),
      concurrency: 2,
      timeoutSec: 30,
      silenceSec: 20,
    });
  }, 300_000);

  const caseOf = (id: string) => report.cases.find((c) => c.id === id)!;

  it("passes a BIOS case on the VGA text screen, and keeps what the screen said", () => {
    const c = caseOf("x64-bios.screen.e1000");
    expect(c.actual).toEqual({ status: "pass" });
    expect(c.passMatch).toEqual({ source: "screen", pattern: "Welcome to the screen-only", text: TEXT.screen });
    expect(readFileSync(join(root, "report", c.screenText!), "utf8")).toContain(TEXT.screen);
    expect(c.memoryMiB).toBe(1024);
    expect(readFileSync(join(root, "report", "cases", c.id, "qemu.log"), "utf8")).toMatch(/ -m 1024 /);
  });

  it.each(["x64-bios", "x64-uefi"])("passes on %s on the serial line", (profile) => {
    const c = caseOf(`${profile}.serial.e1000`);
    expect(c.actual).toEqual({ status: "pass" });
    expect(c.passMatch).toMatchObject({ source: "serial", text: TEXT.serial });
    expect(c.memoryMiB).toBe(512);
  });

  it("never passes on text the pattern's source did not show", () => {
    expect(caseOf("x64-bios.crossed.e1000").actual).toMatchObject({ status: "fail", reason: "timeout" });
  });

  it("on UEFI, says that a screen pattern cannot read a framebuffer", () => {
    const c = caseOf("x64-uefi.screen.e1000");
    expect(c.actual).toMatchObject({
      status: "fail",
      reason: "timeout",
      detail: expect.stringMatching(/graphics mode \(\d+×\d+\)/),
    });
    expect(c.passMatch).toBeUndefined();
  });
});
