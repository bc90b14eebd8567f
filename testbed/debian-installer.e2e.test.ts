/**
 * A boot image nobody here wrote: Debian 12's netboot installer (amd64 and i386 .debs, fetched
 * with apt and checked against apt's SHA256), imported with `bootmedia library add-boot-image`
 * with its testbed hints, built into media by the CLI, and booted to its first screen
 * ("[!!] Select a language"): x64 BIOS from the ISO and x86 BIOS from the USB image, judged on
 * the VGA text screen; x64 UEFI (a framebuffer) from media whose kernelArgs put the installer
 * on the serial line, judged there. The pass patterns and the 1024 MiB come from the manifests
 * through media.json, not from the test. ~240 MB of .debs (cached), ~5 min under TCG.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bootmedia, ROOT } from "../testing/cli.ts";
import { downloadDeb, extractDeb, lookupDebs } from "../backends/boot-image-builder/debs.ts";
import { describeMedia } from "./media-from-inputs.ts";
import { runTestbed } from "./testbed.ts";
import type { CaseResult } from "./runner.ts";

const DEB_CACHE = join(ROOT, "fixtures/boot-images/build/debian-installer");
const IMAGES = { x64: "amd64", x86: "i386" } as const;
const FIRST_SCREEN = "Select a language";

const cases = new Map<string, CaseResult>();

async function cli(args: string[], cwd: string): Promise<void> {
  const r = await bootmedia(args, { cwd });
  if (r.exitCode !== 0) throw new Error(`bootmedia ${args.join(" ")} failed: ${r.stderr}`);
}

beforeAll(async () => {
  const work = await mkdtemp(join(tmpdir(), "bm-debian-"));
  const lib = join(work, "lib");
  const refs = await lookupDebs(
    Object.values(IMAGES).map((a) => `debian-installer-12-netboot-${a}:all`),
    () => undefined,
  );
  for (const [arch, debArch] of Object.entries(IMAGES)) {
    const ref = refs.find((r) => r.name.includes(debArch))!;
    const root = join(work, debArch);
    await extractDeb(await downloadDeb(ref, DEB_CACHE, () => undefined), root);
    const dir = join(root, `usr/lib/debian-installer/images/12/${debArch}/text/debian-installer/${debArch}`);
    await cli(
      [
        "library",
        "add-boot-image",
        lib,
        "--kernel",
        join(dir, "linux"),
        "--initrd",
        join(dir, "initrd.gz"),
        "--arch",
        arch,
        "--id",
        `DEB12-${arch.toUpperCase()}`,
        "--cmdline",
        "nomodeset",
        "--drivers",
        "e1000,e1000e,virtio_net",
        "--pass-screen",
        FIRST_SCREEN,
        "--pass-serial",
        FIRST_SCREEN,
        "--memory",
        "1024",
      ],
      work,
    );
  }
  await mkdir(join(work, "ts"));
  // A task-sequence package carries its steps; the installer never runs them (first screen only).
  await writeFile(
    join(work, "ts/steps.yaml"),
    "steps:\n  - { name: First screen only, type: run-command, command: 'true' }\n",
  );
  await cli(["library", "add", lib, join(work, "ts"), "--type", "task-sequence", "--id", "BM200010"], work);
  const spec = (name: string, images: string, extra = "") =>
    `name: ${name}\nbootImage: ${images}\ntaskSequence: BM200010\ncontentLibrary: ${lib}\ntarget: { type: iso, output: ${name}.iso }\n${extra}`;
  await writeFile(join(work, "debian.yaml"), spec("debian12", "[DEB12-X86, DEB12-X64]"));
  await writeFile(
    join(work, "serial.yaml"),
    spec("debian12-serial", "DEB12-X64", 'bootLoader: { kernelArgs: "console=ttyS0,115200" }\n'),
  );
  await cli(["build", "debian.yaml", "--out", join(work, "debian.iso"), "--quiet"], work);
  await cli(["build", "debian.yaml", "--target", "usb", "--out", join(work, "debian-usb.img"), "--quiet"], work);
  await cli(["build", "serial.yaml", "--out", join(work, "debian-serial.iso"), "--quiet"], work);

  const runs = [
    { media: "debian.iso", profile: "x64-bios" },
    { media: "debian-usb.img", profile: "x86-bios" },
    { media: "debian-serial.iso", profile: "x64-uefi" },
  ] as const;
  // One machine at a time: three TCG guests on a 2-core host starve OVMF's timer calibration
  // (a q35 kernel then panics "IO-APIC + timer doesn't work").
  for (const r of runs) {
    const report = await runTestbed({
      media: [await describeMedia(join(work, r.media))],
      profiles: [r.profile],
      nics: ["e1000"],
      reportDir: join(work, `report-${r.profile}`),
      timeoutSec: 400,
    });
    for (const c of report.cases) cases.set(c.profile, c);
  }
}, 1_500_000);

describe("Debian's installer, imported and booted to its first screen", () => {
  it.each(["x64-bios", "x86-bios"])("%s: passes on the VGA text screen, with the image's 1024 MiB", (profile) => {
    const c = cases.get(profile)!;
    expect(c.actual, JSON.stringify(c.actual)).toEqual({ status: "pass" });
    expect(c.passMatch).toMatchObject({
      source: "screen",
      pattern: FIRST_SCREEN,
      text: expect.stringContaining("[!!] Select a language"),
    });
    expect(c.memoryMiB).toBe(1024);
  });

  it("x64-uefi: passes on the serial line, the installer's console there", () => {
    const c = cases.get("x64-uefi")!;
    expect(c.actual, JSON.stringify(c.actual)).toEqual({ status: "pass" });
    expect(c.passMatch).toMatchObject({ source: "serial", text: expect.stringContaining("[!!] Select a language") });
    expect(c.memoryMiB).toBe(1024);
  });
});
