/** Runner edge cases against a real QEMU that need no boot media to speak of. */
import { describe, it, expect, afterAll } from "vitest";
import { mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildMatrix } from "./matrix.ts";
import { runCase } from "./runner.ts";
import { runTestbed } from "./testbed.ts";

describe("runner", () => {
  const root = mkdtempSync(join(tmpdir(), "bm-runner-e2e-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("reports QEMU refusing to start with QEMU's own words, not as a boot failure", async () => {
    const media = join(root, "gone.iso");
    const [c] = buildMatrix(
      [{ kind: "iso", path: media, images: ["x64"], drivers: [], label: "gone" }],
      ["x64-bios"],
      ["e1000"],
    );
    const r = await runCase(c, { reportDir: root, accel: "tcg", timeoutSec: 30, silenceSec: 10 });
    expect(r.actual).toMatchObject({
      status: "fail",
      reason: "qemu-failed",
      detail: expect.stringMatching(/gone\.iso/),
    });
    expect(r.ok).toBe(false);
    expect(readFileSync(join(root, "cases", c.id, "qemu.log"), "utf8")).toMatch(/^qemu-system-x86_64 .*-accel tcg/);
  }, 40_000);

  it("refuses missing media before starting any machine", async () => {
    await expect(
      runTestbed({
        media: [{ kind: "usb", path: join(root, "none.img"), images: ["x64"], drivers: [] }],
        reportDir: root,
      }),
    ).rejects.toMatchObject({ code: "BM5003" });
  });
});
