/** The QMP client and the accelerator probe against a real QEMU. */
import { describe, it, expect, afterAll } from "vitest";
import { execa } from "execa";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QmpClient, type QmpEvent } from "./qmp.ts";
import { probeAccel, resolveAccel } from "./accel.ts";

describe("QmpClient against QEMU", () => {
  const root = mkdtempSync(join(tmpdir(), "bm-qmp-e2e-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("negotiates, queries, dumps the screen as PNG, sends keys and quits QEMU", async () => {
    const sock = join(root, "qmp.sock");
    const qemu = execa(
      "qemu-system-x86_64",
      [
        "-nodefaults",
        "-display",
        "none",
        "-device",
        "VGA",
        "-accel",
        "tcg",
        "-m",
        "64",
        "-S",
        "-qmp",
        `unix:${sock},server=on,wait=off`,
      ],
      { reject: false, stdin: "ignore", timeout: 30_000 },
    );
    const qmp = await QmpClient.connect(sock, { timeoutMs: 10_000 });
    const events: string[] = [];
    qmp.events.on("event", (e: QmpEvent) => events.push(e.event));
    expect(qmp.greeting).toMatchObject({ version: { qemu: { major: expect.any(Number) } } });
    expect(await qmp.execute("query-status")).toMatchObject({ status: "prelaunch", running: false });
    await qmp.execute("cont");
    expect(await qmp.execute("query-status")).toMatchObject({ running: true });
    const png = join(root, "screen.png");
    await qmp.screendump(png);
    expect((await execa("file", ["-b", png])).stdout).toMatch(/^PNG image data/);
    await qmp.sendKey(["ret"]);
    await expect(qmp.execute("no-such-command")).rejects.toMatchObject({
      code: "BM5103",
      message: expect.stringMatching(/CommandNotFound/),
    });
    await qmp.quit();
    const r = await qemu;
    expect(r.exitCode).toBe(0);
    expect(events).toContain("RESUME");
    expect(events).toContain("SHUTDOWN");
  }, 40_000);

  it("proves TCG with the probe boot sector's success exit", async () => {
    expect(await probeAccel("tcg")).toMatchObject({ ok: true });
  }, 20_000);

  it("uses KVM only when its probe passes, and otherwise says why and falls back", async () => {
    const warnings: string[] = [];
    const accel = await resolveAccel(
      "kvm",
      (m) => warnings.push(m),
      (a) => probeAccel(a, 3000),
    );
    if (accel === "kvm") expect(warnings).toEqual([]);
    else expect(warnings[0]).toMatch(/KVM asked for but not usable .*running under TCG/);
    expect(
      await resolveAccel(
        undefined,
        (m) => warnings.push(m),
        () => {
          throw new Error("must not probe");
        },
      ),
    ).toBe("tcg");
  }, 20_000);
});
