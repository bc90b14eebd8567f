/**
 * The testbed refuses at once, naming the program and its Debian package, when a host
 * helper is missing — instead of booting and ending no-mp-reachable when busybox (QEMU's
 * guestfwd command) is absent. The machine is changed through an injected lookup, PATH,
 * or (as root) a mount namespace where /bin/busybox is not a file.
 */
import { describe, expect, it } from "vitest";
import { mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { BIN, bootmedia } from "../testing/cli.ts";
import { findOnHost } from "../core/doctor.ts";
import { checkHostNeeds, hostNeedsOf } from "./host-check.ts";
import { runTestbed } from "./testbed.ts";
import type { CaseManagementPoints } from "./mp-case.ts";

const without =
  (...absent: string[]) =>
  (tool: string) =>
    absent.includes(tool) ? undefined : findOnHost(tool);
const MPS: CaseManagementPoints = {
  site: { siteCode: "BM1", managementPoints: ["MP1"] },
  mps: [{ name: "MP1", up: true }],
};

/** A site file whose one case would boot x64-bios against MP1 (its media is never built: the check comes first). */
const SITE = `site: { siteCode: BM1, managementPoints: [MP1] }
media: { m: m.yaml }
cases: [{ name: c1, media: m, profile: x64-bios }]
`;

async function siteDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bm-host-"));
  await writeFile(join(dir, "site.yaml"), SITE);
  return dir;
}

describe("host helpers the testbed needs", () => {
  it("are each profile's QEMU and firmware, plus busybox only where a case has management points", () => {
    expect(hostNeedsOf(["x64-bios"], false)).toEqual({ programs: ["qemu-system-x86_64"], firmware: [] });
    expect(hostNeedsOf(["x64-bios"], true).programs).toEqual(["/bin/busybox", "qemu-system-x86_64"]);
    expect(hostNeedsOf(["x86-uefi"], false).firmware).toEqual([
      "/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd",
      "/usr/share/OVMF/OVMF32_VARS_4M.fd",
    ]);
  });

  it("missing busybox: BM5001 names /bin/busybox and busybox-static", () => {
    expect(() => checkHostNeeds(hostNeedsOf(["x64-bios"], true), without("/bin/busybox"))).toThrow(
      expect.objectContaining({
        code: "BM5001",
        message: expect.stringMatching(/\/bin\/busybox \(Debian package busybox-static; testbed: `busybox nc`/),
        hint: expect.stringMatching(/busybox-static.*doctor --install --for testbed/),
      }),
    );
  });

  it("missing firmware: BM5002 names the file and its package", () => {
    expect(() =>
      checkHostNeeds(hostNeedsOf(["x86-uefi"], false), without("/usr/share/OVMF/OVMF32_VARS_4M.fd")),
    ).toThrow(
      expect.objectContaining({
        code: "BM5002",
        message: expect.stringContaining("/usr/share/OVMF/OVMF32_VARS_4M.fd (Debian package ovmf-ia32"),
      }),
    );
  });

  it("runTestbed stops before any machine starts, in well under a second", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-host-"));
    const media = {
      kind: "iso" as const,
      path: join(dir, "never-opened.iso"),
      images: ["x64" as const],
      drivers: [],
      managementPoints: MPS,
    };
    const t0 = performance.now();
    await expect(
      runTestbed({
        media: [media],
        profiles: ["x64-bios"],
        nics: ["e1000"],
        reportDir: dir,
        hostLookup: without("/bin/busybox"),
      }),
    ).rejects.toMatchObject({ code: "BM5001", message: expect.stringContaining("busybox-static") });
    expect(performance.now() - t0).toBeLessThan(1000);
    // Without management points busybox is not needed: the next check (the media) speaks.
    await expect(
      runTestbed({
        media: [{ ...media, managementPoints: undefined }],
        profiles: ["x64-bios"],
        nics: ["e1000"],
        reportDir: dir,
        hostLookup: without("/bin/busybox"),
      }),
    ).rejects.toMatchObject({ code: "BM5003" });
  });

  it("CLI: `testbed --site` without QEMU on PATH exits 1 with BM5001 naming qemu-system-x86_64 and its package", async () => {
    const dir = await siteDir();
    // A PATH holding node alone.
    await symlink(process.execPath, join(dir, "node"));
    const r = await bootmedia(["testbed", "--site", join(dir, "site.yaml"), "--report-dir", join(dir, "report")], {
      env: { PATH: dir },
    });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/BM5001.*qemu-system-x86_64 \(Debian package qemu-system-x86/);
  });

  it.runIf(process.getuid?.() === 0)(
    "CLI: `testbed --site` where /bin/busybox is not a file exits 1 with BM5001 naming busybox-static",
    async () => {
      const dir = await siteDir();
      // A private mount namespace: /dev/null over /bin/busybox is seen by this command alone.
      const script = `mount --bind /dev/null /bin/busybox && exec "$0" "$@"`;
      const r = await execa(
        "unshare",
        [
          "--mount",
          "sh",
          "-c",
          script,
          process.execPath,
          BIN,
          "testbed",
          "--site",
          join(dir, "site.yaml"),
          "--report-dir",
          join(dir, "report"),
        ],
        { reject: false, env: { NO_COLOR: "1" } },
      );
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/BM5001.*\/bin\/busybox \(Debian package busybox-static/);
      expect(findOnHost("/bin/busybox")).toBe("/bin/busybox"); // the host itself is untouched
    },
  );
});
