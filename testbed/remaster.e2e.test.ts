/**
 * Remastering real ISOs (end-to-end, QEMU under TCG): two bootable ISOs Debian packages ship
 * — GRUB's rescue CD (no-emulation GRUB image, grub2 MBR, protective MBR partition) and
 * memtest86+ (1.44 MB floppy-emulation BIOS image, EFI image in an appended partition) — and
 * an ISOLINUX CD made by xorriso -isohybrid-mbr from Debian's isolinux files (BIOS only) are extracted and rebuilt by `bootmedia image iso`, once with explicit flags and once with
 * --from-iso, and all three boot alike on BIOS and UEFI, as CD and as disk: the screen
 * (tesseract on QMP screendumps) shows the same outcome for each. xorriso is the oracle for
 * the rebuilt boot setup.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../testing/cli.ts";
import { bootAndReadScreen, cutBytes, extractIso, MACHINES, SOURCES, type RemasterSource } from "./testing/remaster.ts";

const BOOT_TIMEOUT_SEC = 120;
/** Screens of the last run stay here for a look (one PNG per source, variant and machine). */
const SCREENS = join(tmpdir(), "bootmedia-remaster-screens");
const VARIANTS = ["original", "from-iso", "explicit"] as const;

let work: string;
const images = new Map<string, Record<(typeof VARIANTS)[number], string>>();

async function rebuild(src: RemasterSource): Promise<Record<(typeof VARIANTS)[number], string>> {
  const dir = join(work, src.name);
  await mkdir(dir, { recursive: true });
  const iso = typeof src.iso === "string" ? src.iso : await src.iso(dir);
  const tree = join(dir, "tree");
  await extractIso(iso, tree);
  const mbr = join(dir, "mbr.bin");
  const appended = join(dir, "appended.img");
  await cutBytes(iso, src.cut.mbr, mbr);
  if (src.cut.appended) await cutBytes(iso, src.cut.appended, appended);
  const env = { SOURCE_DATE_EPOCH: "1700000000" };
  const fromIso = join(dir, "from-iso.iso");
  const r1 = await bootmedia(["image", "iso", tree, "-o", fromIso, "--from-iso", iso], { env });
  expect(r1.exitCode, r1.stderr).toBe(0);
  // By hand, a user drops the catalog file osirrox extracted (--from-iso leaves it out itself).
  for (const cat of ["boot.catalog", "isolinux/boot.cat"]) await rm(join(tree, cat), { force: true });
  const explicit = join(dir, "explicit.iso");
  const r2 = await bootmedia(["image", "iso", tree, "-o", explicit, ...src.explicit({ mbr, appended })], { env });
  expect(r2.exitCode, r2.stderr).toBe(0);
  return { original: iso, "from-iso": fromIso, explicit };
}

/** xorriso's view of the boot setup, with what must differ between images (addresses, sizes, the catalog's file) taken out. */
async function bootSetup(iso: string): Promise<string> {
  const r = await execa("xorriso", ["-indev", iso, "-report_el_torito", "plain", "-report_system_area", "plain"], {
    reject: false,
    all: true,
  });
  return String(r.all)
    .split("\n")
    .filter((l) => /^(El Torito (boot img|img opts|img path)|System area summary|MBR partition\s+:)/.test(l))
    .map((l) =>
      l
        .replace(/(El Torito boot img :(?:\s+\S+){7})\s+\d+$/, "$1")
        .replace(/(MBR partition\s+:\s+\d+\s+\S+\s+\S+).*/, "$1"),
    )
    .join("\n");
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-remaster-"));
  await mkdir(SCREENS, { recursive: true });
  for (const src of SOURCES) {
    if (typeof src.iso === "string" && !existsSync(src.iso))
      throw new Error(`${src.iso} is missing: install the Debian package ${src.debianPackage} (npm test's setup does)`);
    images.set(src.name, await rebuild(src));
  }
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each(SOURCES)("remaster $name", (src) => {
  it("rebuilds carry the original's El Torito entries, MBR code patch and partition types (xorriso)", async () => {
    const v = images.get(src.name)!;
    const original = await bootSetup(v.original);
    expect(original).toMatch(/El Torito boot img/);
    expect(await bootSetup(v["from-iso"])).toBe(original);
    expect(await bootSetup(v.explicit)).toBe(original);
  });

  it.each(MACHINES.filter((m) => !src.machines || src.machines.includes(m.id)))(
    "$id: original, --from-iso and explicit rebuild show the same screen outcome",
    async (machine) => {
      const v = images.get(src.name)!;
      const seen: Record<string, string> = {};
      for (const variant of VARIANTS) {
        const shot = join(SCREENS, `${src.name}-${variant}-${machine.id}.png`);
        const run = await bootAndReadScreen(v[variant], machine, src.booted, shot, BOOT_TIMEOUT_SEC);
        seen[variant] = run.outcome;
        expect(
          run.outcome,
          `${variant} on ${machine.id} (screen ${shot}, read by ${run.readBy}):\n${run.text.slice(0, 800)}`,
        ).toBe(src.expected[machine.id]);
      }
      expect(seen).toEqual({
        original: src.expected[machine.id],
        "from-iso": src.expected[machine.id],
        explicit: src.expected[machine.id],
      });
    },
    VARIANTS.length * (BOOT_TIMEOUT_SEC + 20) * 1000,
  );
});
