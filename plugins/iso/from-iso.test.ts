/**
 * --from-iso on sources written by xorriso (the independent writer): a no-emulation image with
 * boot-info-table, a floppy image, a UEFI image in an appended partition, GRUB's MBR code; and
 * the refusals when the folder lacks a boot image or the source has no catalog.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { treeFromDir } from "../../base/dir-tree.ts";
import { bootmedia } from "../../testing/cli.ts";
import { replayBootSetup } from "./from-iso.ts";

const BOOT_HYBRID = "/usr/lib/grub/i386-pc/boot_hybrid.img";
let work: string;
let tree: string;
let src: string;

async function report(iso: string): Promise<string> {
  const r = await execa("xorriso", ["-indev", iso, "-report_el_torito", "plain", "-report_system_area", "plain"], {
    all: true,
  });
  return (
    String(r.all)
      .split("\n")
      .filter((l) => /^(El Torito (boot img|img opts)|System area summary|MBR partition\s+:)/.test(l))
      // Addresses differ between writers: the LBA of each entry, the start and size of each partition.
      .map((l) => l.replace(/(MBR partition\s+:\s+\d+\s+\S+\s+\S+).*/, "$1").replace(/\s+\d+$/, ""))
      .join("\n")
  );
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-from-iso-"));
  tree = join(work, "tree");
  await mkdir(join(tree, "boot"), { recursive: true });
  await writeFile(join(tree, "boot/floppy.img"), Buffer.alloc(1_474_560, 0x11));
  await writeFile(join(tree, "boot/cdboot.bin"), Buffer.alloc(8192, 0x22));
  await writeFile(join(tree, "readme.txt"), "hello\n");
  await writeFile(join(work, "esp.img"), Buffer.alloc(256 * 1024, 0x33));
  src = join(work, "src.iso");
  await execa("xorriso", [
    "-as",
    "mkisofs",
    "-quiet",
    "-R",
    "-J",
    "-V",
    "SRC_VOL",
    "-o",
    src,
    "--grub2-mbr",
    BOOT_HYBRID,
    "-iso_mbr_part_type",
    "0x00",
    "--mbr-force-bootable",
    "-append_partition",
    "2",
    "0xef",
    join(work, "esp.img"),
    "-c",
    "boot/boot.cat",
    "-b",
    "boot/cdboot.bin",
    "-no-emul-boot",
    "-boot-load-size",
    "4",
    "-boot-info-table",
    "-eltorito-alt-boot",
    "-b",
    "boot/floppy.img",
    "-eltorito-alt-boot",
    "-e",
    "--interval:appended_partition_2:all::",
    "-no-emul-boot",
    tree,
  ]);
}, 60_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("--from-iso", () => {
  it("replays entries, system area and appended partition; xorriso reports the same boot setup for the rebuild", async () => {
    const out = join(work, "rebuilt.iso");
    const r = await bootmedia(["image", "iso", tree, "-o", out, "--from-iso", src], {
      env: { SOURCE_DATE_EPOCH: "1700000000" },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const original = await report(src);
    expect(original).toMatch(/fd1\.4/);
    expect(original).toMatch(/boot-info-table/);
    expect(await report(out)).toBe(original);
    const inspect = await bootmedia(["inspect", out]);
    expect(inspect.stdout).toMatch(
      /El Torito entry 1: bios, emulation none, load size 4, LBA \d+, boot\/cdboot.bin, boot-info-table present/,
    );
    expect(inspect.stdout).toMatch(
      /El Torito entry 2: bios, emulation floppy-1.44, load size 1, LBA \d+, boot\/floppy.img, boot-info-table absent/,
    );
    expect(inspect.stdout).toMatch(
      /El Torito entry 3: efi, emulation none, load size 512, LBA \d+, no file of the tree/,
    );
    expect(inspect.stdout).toMatch(/system area: MBR boot code present, grub2 patch to the BIOS image/);
  });

  it("takes the volume id and drops the source's catalog file", async () => {
    const replay = await replayBootSetup(src, await treeFromDir(tree));
    expect(replay.volumeId).toBe("SRC_VOL");
    expect(replay.entries.map((e) => [e.platform, e.image, e.emulation])).toEqual([
      ["bios", "boot/cdboot.bin", "none"],
      ["bios", "boot/floppy.img", "floppy"],
      ["efi", { appendedPartition: 2 }, "none"],
    ]);
    expect(replay.hybrid).toMatchObject({ mbrPatch: "grub2", isoPartition: { type: 0, start: 0, bootable: true } });
  });

  it("refuses a folder that lacks a boot image of the source, and a source without a catalog (BM4108)", async () => {
    const partial = (await treeFromDir(tree)).filter((e) => e.path !== "boot/floppy.img");
    await expect(replayBootSetup(src, partial)).rejects.toMatchObject({
      code: "BM4108",
      message: expect.stringContaining("boot/floppy.img"),
    });
    // An appended partition whose table entry claims more than the file holds.
    const cut = join(work, "cut.iso");
    const whole = await readFile(src);
    const esp = (await replayBootSetup(src, await treeFromDir(tree))).appendPartitions[0].source;
    await writeFile(cut, whole.subarray(0, esp.offset + esp.size - 4096));
    await expect(replayBootSetup(cut, await treeFromDir(tree))).rejects.toMatchObject({
      code: "BM4108",
      message: expect.stringContaining("past the end"),
    });
    const plain = join(work, "plain.iso");
    await execa("xorriso", ["-as", "mkisofs", "-quiet", "-o", plain, tree]);
    await expect(replayBootSetup(plain, [])).rejects.toMatchObject({ code: "BM4108" });
  });
});
