/**
 * El Torito entries beyond the BIOS + UEFI pair: emulation, load size, boot-info-table on
 * request only, several entries per platform with section headers, an EFI image in an
 * appended partition, the isohybrid MBR patch. xorriso (-report_el_torito / -report_system_area),
 * sfdisk and sgdisk are the oracles; our reader must agree with them.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TreeEntry } from "../../base/tree.ts";
import { FLOPPY_SIZES } from "./eltorito.ts";
import { planIso } from "./plan.ts";
import { readIso } from "./read.ts";
import { createRandom, xorrisoReport } from "./testing/testkit.ts";
import { writeIso } from "./write.ts";
import type { IsoBootEntry, IsoOptions } from "./types.ts";

const rnd = createRandom(7);
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => (rnd() * 256) | 0));
const floppy = Buffer.from(
  Array.from({ length: 1_474_560 / 4 }, (_, i) => [i & 0xff, (i >> 8) & 0xff, 0x5a, 0xa5]).flat(),
);
const noEmul = randomBytes(6000);
const noEmul2 = randomBytes(3000);
/** A disk image whose MBR has one partition of type 0x06 (FAT16), for hard-disk emulation. */
const hdd = Buffer.alloc(64 * 1024);
hdd[446 + 4] = 0x06;
hdd.writeUInt32LE(1, 446 + 8);
hdd.writeUInt32LE(127, 446 + 12);
hdd[510] = 0x55;
hdd[511] = 0xaa;
const esp = Buffer.alloc(200 * 1024, 0xe5);
const esp2 = Buffer.alloc(100 * 1024, 0xe6);
const file = (path: string, data: Buffer): TreeEntry => ({
  type: "file",
  path,
  size: data.length,
  source: { kind: "bytes", data },
});
const entries: TreeEntry[] = [
  file("boot/floppy.img", floppy),
  file("boot/noemul.bin", noEmul),
  file("boot/noemul2.bin", noEmul2),
  file("boot/hdd.img", hdd),
  file("efi/a.img", esp),
  file("efi/b.img", esp2),
  file("readme.txt", Buffer.from("hi\n")),
];

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-iso-eltorito-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function build(name: string, bootEntries: IsoBootEntry[], extra: Partial<IsoOptions> = {}) {
  const o: IsoOptions = {
    volumeId: "ELTORITO",
    sourceDateEpoch: 1_700_000_000,
    boot: { entries: bootEntries },
    ...extra,
  };
  const iso = join(work, name);
  await writeIso(entries, o, iso);
  return { iso, plan: planIso(entries, o), bytes: await readFile(iso) };
}

/** xorriso's entry rows: N, platform, emulation, load size, LBA. */
async function entryRows(iso: string): Promise<string[][]> {
  const report = await xorrisoReport(iso, "-report_el_torito");
  return [
    ...report.matchAll(/El Torito boot img :\s+(\d+)\s+(\S+)\s+y\s+(\S+)\s+0x0000\s+(0x[0-9a-f]+)\s+(\d+)\s+(\d+)/g),
  ].map((m) => m.slice(1));
}

describe("El Torito entries", () => {
  it("floppy emulation: media type by size, load size 1, image bytes untouched (no boot-info-table unless asked)", async () => {
    const { iso, plan, bytes } = await build("floppy.iso", [
      { platform: "bios", image: "boot/floppy.img", emulation: "floppy" },
    ]);
    const lba = plan.bootEntries[0].lba;
    expect(await entryRows(iso)).toEqual([["1", "BIOS", "fd1.4", "0x00", "1", String(lba)]]);
    expect(bytes.subarray(lba * 2048, lba * 2048 + floppy.length)).toEqual(floppy);
    const info = await readIso(iso);
    expect(info.bootEntries).toEqual([
      expect.objectContaining({
        platform: "bios",
        emulation: 2,
        emulationName: "floppy-1.44",
        loadSectors: 1,
        lba,
        bootInfoTable: false,
        path: "boot/floppy.img",
      }),
    ]);
  });

  it("rejects floppy emulation of an image of no floppy size (BM3108)", () => {
    expect(() =>
      planIso(entries, {
        volumeId: "X",
        sourceDateEpoch: 0,
        boot: { entries: [{ platform: "bios", image: "boot/noemul.bin", emulation: "floppy" }] },
      }),
    ).toThrow(
      expect.objectContaining({ code: "BM3108", message: expect.stringContaining(String(FLOPPY_SIZES[1].bytes)) }),
    );
  });

  it("several BIOS and UEFI entries in sections; load size, boot-info-table and hard-disk emulation as asked", async () => {
    const { iso, plan, bytes } = await build("multi.iso", [
      { platform: "bios", image: "boot/noemul.bin", bootInfoTable: true },
      { platform: "bios", image: "boot/hdd.img", emulation: "hdd" },
      { platform: "bios", image: "boot/noemul2.bin", loadSectors: 6 },
      { platform: "efi", image: "efi/a.img" },
      { platform: "efi", image: "efi/b.img", loadSectors: 0 },
    ]);
    const lba = plan.bootEntries.map((e) => String(e.lba));
    expect(await entryRows(iso)).toEqual([
      ["1", "BIOS", "none", "0x00", "4", lba[0]],
      ["2", "BIOS", "hd", "0x06", "1", lba[1]],
      ["3", "BIOS", "none", "0x00", "6", lba[2]],
      ["4", "UEFI", "none", "0x00", String(esp.length / 512), lba[3]],
      ["5", "UEFI", "none", "0x00", "0", lba[4]],
    ]);
    const report = await xorrisoReport(iso, "-report_el_torito");
    expect(report).toMatch(/El Torito img opts :\s+1\s+boot-info-table/);
    expect(report).not.toMatch(/El Torito img opts :\s+3/);
    // Catalog: validation, default, header 0x90 (BIOS, 2 entries), 2 entries, header 0x91 (UEFI, 2 entries) — El Torito §2.3.
    const catLba = plan.regions.find((r) => r.name === "El Torito boot catalog")!.lba;
    const cat = bytes.subarray(catLba * 2048, (catLba + 1) * 2048);
    expect([cat[64], cat[65], cat.readUInt16LE(66)]).toEqual([0x90, 0x00, 2]);
    expect([cat[160], cat[161], cat.readUInt16LE(162)]).toEqual([0x91, 0xef, 2]);
    const info = await readIso(iso);
    expect(info.bootEntries.map((e) => [e.emulationName, e.bootInfoTable])).toEqual([
      ["none", true],
      ["hdd", false],
      ["none", false],
      ["none", false],
      ["none", false],
    ]);
  });

  it("an EFI image appended after the tree as MBR partition 2 (xorriso -append_partition), the ISO as partition 1", async () => {
    const espFile = join(work, "esp.img");
    await writeFile(espFile, esp);
    const { iso, plan, bytes } = await build(
      "appended.iso",
      [
        { platform: "bios", image: "boot/floppy.img", emulation: "floppy" },
        { platform: "efi", image: { appendedPartition: 2 } },
      ],
      {
        appendPartitions: [{ number: 2, type: 0xef, source: { path: espFile, offset: 0, size: esp.length } }],
        hybrid: { mbrCode: Buffer.alloc(432, 0xfa), isoPartition: { type: 0x00, start: 0, bootable: true } },
      },
    );
    const efiLba = plan.bootEntries[1].lba;
    const volumeSectors = bytes.readUInt32LE(16 * 2048 + 80);
    expect(efiLba).toBeGreaterThanOrEqual(volumeSectors);
    expect(bytes.subarray(efiLba * 2048, efiLba * 2048 + esp.length)).toEqual(esp);
    const sa = await xorrisoReport(iso, "-report_system_area");
    expect(sa).toMatch(new RegExp(`MBR partition\\s+:\\s+1\\s+0x80\\s+0x00\\s+0\\s+${volumeSectors * 4}`));
    expect(sa).toMatch(new RegExp(`MBR partition\\s+:\\s+2\\s+0x00\\s+0xef\\s+${efiLba * 4}\\s+${esp.length / 512}`));
    expect(await entryRows(iso)).toEqual([
      ["1", "BIOS", "fd1.4", "0x00", "1", expect.any(String)],
      ["2", "UEFI", "none", "0x00", String(esp.length / 512), String(efiLba)],
    ]);
    const sfdisk = JSON.parse((await execa("sfdisk", ["--json", iso])).stdout) as {
      partitiontable: { partitions: Array<{ start: number; size: number; type: string }> };
    };
    expect(sfdisk.partitiontable.partitions.map((p) => [p.start, p.size, p.type])).toEqual([
      [0, volumeSectors * 4, "0"],
      [efiLba * 4, esp.length / 512, "ef"],
    ]);
  });

  it("with --gpt the appended ESP is a GPT EFI System partition (sgdisk verifies the table)", async () => {
    const espFile = join(work, "esp.img");
    await writeFile(espFile, esp);
    const { iso, plan } = await build("appended-gpt.iso", [{ platform: "efi", image: { appendedPartition: 2 } }], {
      appendPartitions: [{ number: 2, type: 0xef, source: { path: espFile, offset: 0, size: esp.length } }],
      hybrid: { gpt: true },
    });
    const verify = await execa("sgdisk", ["-v", iso], { reject: false });
    expect(verify.stdout).toMatch(/No problems found/);
    const list = (await execa("sgdisk", ["-p", iso])).stdout;
    expect(list).toMatch(
      new RegExp(
        `^\\s+1\\s+${plan.bootEntries[0].lba * 4}\\s+${plan.bootEntries[0].lba * 4 + esp.length / 512 - 1}\\s.*EF00`,
        "m",
      ),
    );
  });

  it("isohybrid MBR patch: the BIOS image's 512-byte LBA at 0x1b0, as ISOLINUX's isohdpfx.bin reads it", async () => {
    const { plan, bytes, iso } = await build(
      "isohybrid.iso",
      [{ platform: "bios", image: "boot/noemul.bin", bootInfoTable: true }],
      {
        hybrid: {
          mbrCode: Buffer.alloc(432, 0x33),
          mbrPatch: "isohybrid",
          isoPartition: { type: 0x17, start: 0, bootable: true },
        },
      },
    );
    expect(bytes.readUInt32LE(0x1b0)).toBe(plan.bootEntries[0].lba * 4);
    expect(bytes.readUInt32LE(0x1b4)).toBe(0);
    // Padded to whole cylinders (64 x 32 x 512 bytes), as xorriso -isohybrid-mbr: it then reports cyl-align-on.
    expect(bytes.length % 2 ** 20).toBe(0);
    expect(await xorrisoReport(iso, "-report_system_area")).toMatch(/System area summary: MBR cyl-align-on/);
    expect((await readIso(iso)).systemArea).toEqual({
      mbrBootCode: true,
      mbrPatch: "isohybrid",
      beyondMbr: false,
      gpt: false,
    });
  });

  it("refuses more entries than one catalog sector holds (BM3108)", () => {
    const many = Array.from(
      { length: 40 },
      (_, i): IsoBootEntry => ({ platform: i % 2 ? "efi" : "bios", image: "boot/noemul.bin" }),
    );
    expect(() => planIso(entries, { volumeId: "X", sourceDateEpoch: 0, boot: { entries: many } })).toThrow(
      expect.objectContaining({ code: "BM3108" }),
    );
  });
});
