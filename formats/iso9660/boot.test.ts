import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TreeEntry } from "../../base/tree.ts";
import { planIso } from "./plan.ts";
import { readIso } from "./read.ts";
import { createRandom, xorrisoReport } from "./testing/testkit.ts";
import { writeIso } from "./write.ts";
import type { IsoOptions } from "./types.ts";

const BOOT_HYBRID = "/usr/lib/grub/i386-pc/boot_hybrid.img";
const rnd = createRandom(42);
const biosImage = Buffer.from(Array.from({ length: 5000 }, () => (rnd() * 256) | 0));
const espImage = Buffer.alloc(1440 * 1024, 0xe5);
const entries: TreeEntry[] = [
  {
    type: "file",
    path: "boot/grub/i386-pc/eltorito.img",
    size: biosImage.length,
    source: { kind: "bytes", data: biosImage },
  },
  { type: "file", path: "boot/efi.img", size: espImage.length, source: { kind: "bytes", data: espImage } },
  { type: "file", path: "readme.txt", size: 3, source: { kind: "bytes", data: Buffer.from("hi\n") } },
];
const boot = { bios: { image: "boot/grub/i386-pc/eltorito.img" }, efi: { image: "boot/efi.img" } };

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-iso-boot-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function build(name: string, opts: Partial<IsoOptions>) {
  const o: IsoOptions = { volumeId: "BOOT", sourceDateEpoch: 1_700_000_000, boot, ...opts };
  const iso = join(work, name);
  await writeIso(entries, o, iso);
  return { iso, plan: planIso(entries, o) };
}

describe("El Torito", () => {
  it("has a BIOS no-emulation entry with boot-info-table and a UEFI entry, as xorriso reports", async () => {
    const { iso, plan } = await build("eltorito.iso", {});
    const report = await xorrisoReport(iso, "-report_el_torito");
    const bios = plan.boot.bios!.lba,
      efi = plan.boot.efi!.lba;
    expect(report).toMatch(
      new RegExp(`El Torito boot img :\\s+1\\s+BIOS\\s+y\\s+none\\s+0x0000\\s+0x00\\s+4\\s+${bios}`),
    );
    expect(report).toMatch(
      new RegExp(
        `El Torito boot img :\\s+2\\s+UEFI\\s+y\\s+none\\s+0x0000\\s+0x00\\s+${espImage.length / 512}\\s+${efi}`,
      ),
    );
    expect(report).toMatch(/El Torito img path :\s+1\s+\/boot\/grub\/i386-pc\/eltorito.img/);
    expect(report).toMatch(/El Torito img path :\s+2\s+\/boot\/efi.img/);
    // xorriso only names the option when the table it finds matches the image (its own checksum).
    expect(report).toMatch(/El Torito img opts :\s+1\s+boot-info-table/);
    expect(report).not.toMatch(/grub2-boot-info/);
    const info = await readIso(iso);
    expect(info.bootEntries).toEqual([
      {
        platform: "bios",
        bootable: true,
        emulation: 0,
        emulationName: "none",
        loadSegment: 0,
        loadSectors: 4,
        lba: bios,
        bootInfoTable: true,
        grub2BootInfo: false,
        path: "boot/grub/i386-pc/eltorito.img",
      },
      {
        platform: "efi",
        bootable: true,
        emulation: 0,
        emulationName: "none",
        loadSegment: 0,
        loadSectors: espImage.length / 512,
        lba: efi,
        bootInfoTable: false,
        grub2BootInfo: false,
        path: "boot/efi.img",
      },
    ]);
  });

  it("rejects a boot image that is not a file of the tree (BM3105)", () => {
    expect(() =>
      planIso(entries, { volumeId: "B", sourceDateEpoch: 0, boot: { bios: { image: "nope.img" } } }),
    ).toThrow(expect.objectContaining({ code: "BM3105" }));
  });
});

describe("hybrid system area", () => {
  it("MBR: GRUB boot_hybrid code patched with the El Torito LBA and an ESP partition, per xorriso and sfdisk", async () => {
    const mbrCode = await readFile(BOOT_HYBRID);
    const { iso, plan } = await build("mbr.iso", { hybrid: { mbrCode } });
    const report = await xorrisoReport(iso, "-report_system_area");
    expect(report).toMatch(/System area summary: MBR .*grub2-mbr/);
    const espStart = plan.boot.efi!.lba * 4;
    expect(report).toMatch(
      new RegExp(`MBR partition\\s+:\\s+1\\s+0x80\\s+0xef\\s+${espStart}\\s+${espImage.length / 512}`),
    );
    const head = (await readFile(iso)).subarray(0, 512);
    expect(head.readBigUInt64LE(0x1b0)).toBe(BigInt(plan.boot.bios!.lba * 4 + 4));
    expect(head.subarray(0, 0x1b0)).toEqual(mbrCode.subarray(0, 0x1b0));
    // xorriso recognises both GRUB patches and a boot-info-table whose checksum still matches.
    const et = await xorrisoReport(iso, "-report_el_torito");
    expect(et).toMatch(/El Torito img opts :\s+1\s+boot-info-table grub2-boot-info/);
    const { stdout } = await execa("sfdisk", ["--json", iso]);
    const pt = JSON.parse(stdout).partitiontable;
    expect(pt.label).toBe("dos");
    expect(pt.partitions).toEqual([
      expect.objectContaining({ start: espStart, size: espImage.length / 512, type: "ef", bootable: true }),
    ]);
  });

  it("GPT: protective MBR and an EFI System Partition over the ESP image, valid for sgdisk", async () => {
    const { iso, plan } = await build("gpt.iso", { hybrid: { mbrCode: await readFile(BOOT_HYBRID), gpt: true } });
    const verify = await execa("sgdisk", ["-v", iso], { reject: false });
    expect(verify.stdout).toContain("No problems found");
    const report = await xorrisoReport(iso, "-report_system_area");
    expect(report).toMatch(/MBR partition\s+:\s+1\s+0x00\s+0xee\s+1\s+/);
    expect(report).toMatch(/GPT type GUID\s+:\s+1\s+28732ac11ff8d211ba4b00a0c93ec93b/);
    const espStart = plan.boot.efi!.lba * 4;
    expect(report).toMatch(new RegExp(`GPT start and size :\\s+1\\s+${espStart}\\s+${espImage.length / 512}`));
    const info = await readIso(iso);
    expect(info.partitions).toContainEqual(
      expect.objectContaining({ scheme: "gpt", type: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", startSector: espStart }),
    );
    // The ISO file system is still intact behind the system area.
    expect((await execa("isoinfo", ["-d", "-i", iso])).stdout).toContain("Volume id: BOOT");
  });
});
