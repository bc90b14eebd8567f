import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { execa } from "execa";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TreeEntry } from "../../base/tree.ts";
import { readDisk, writeUsbImage, PARTITION_START_LBA } from "./index.ts";
import { buildGrubImage } from "./testing/grub-mkimage.ts";
import { checkWithFsck, compareExtracted, extractWithMtools, listWithMtools } from "../fat/testing/oracles.ts";

const EPOCH = 1700000000;
const BOOT_IMG = "/usr/lib/grub/i386-pc/boot.img";
let work: string;
let coreImg: string;
const cfg = new TextEncoder().encode("echo hello\n");
const tree = (): TreeEntry[] => [
  { type: "file", path: "boot/grub/grub.cfg", size: cfg.length, source: { kind: "bytes", data: cfg } },
  {
    type: "file",
    path: "EFI/BOOT/BOOTX64.EFI",
    size: 4096,
    source: { kind: "bytes", data: new Uint8Array(4096).fill(0x4d) },
  },
  {
    type: "file",
    path: "sources/Boot image.wim",
    size: 300_000,
    source: { kind: "bytes", data: new Uint8Array(300_000).map((_, i) => i % 251) },
  },
];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-disk-test-"));
  coreImg = join(work, "core.img");
  await buildGrubImage({ platform: "i386-pc", out: coreImg, prefix: "(hd0,msdos1)/boot/grub" });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("writeUsbImage", () => {
  it("writes an MBR disk that sfdisk and sgdisk accept, with GRUB embedded and a clean FAT32 partition", async () => {
    const out = join(work, "usb.img");
    const plan = await writeUsbImage(
      tree(),
      { sourceDateEpoch: EPOCH, label: "BOOTMEDIA", bios: { bootImg: BOOT_IMG, coreImg } },
      out,
    );
    expect((await stat(out)).size).toBe(plan.totalBytes);

    const dump = JSON.parse((await execa("sfdisk", ["--json", out])).stdout).partitiontable;
    expect(dump.label).toBe("dos");
    expect(dump.id).toBe(`0x${plan.diskSignature.toString(16).padStart(8, "0")}`);
    expect(dump.partitions).toHaveLength(1);
    expect(dump.partitions[0]).toMatchObject({ start: 2048, size: plan.fat.totalSectors, type: "c", bootable: true });
    expect((await execa("sgdisk", ["-v", out])).stdout).toContain("No problems found");

    const offset = PARTITION_START_LBA * 512;
    const fsck = await checkWithFsck(out, offset, plan.fat.totalBytes);
    expect(fsck.ok, fsck.output).toBe(true);
    const dir = await extractWithMtools(out, offset);
    try {
      expect(await compareExtracted(tree(), dir, await listWithMtools(out, offset))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // GRUB: boot.img code in the MBR (partition table kept), core.img right after it.
    const disk = await readFile(out);
    const boot = await readFile(BOOT_IMG);
    expect(disk.subarray(0x68, 0x1b8).equals(boot.subarray(0x68, 0x1b8))).toBe(true);
    expect([...disk.subarray(0x66, 0x68)]).toEqual([0x90, 0x90]); // drive check taken for a hard disk, as grub-bios-setup does
    const core = await readFile(coreImg);
    expect(disk.subarray(1024, 512 + core.length).equals(core.subarray(512))).toBe(true);
    expect(disk.readBigUInt64LE(0x5c)).toBe(1n);
    expect(disk.readBigUInt64LE(1024 - 12)).toBe(2n);
    expect(disk.readUInt16LE(1024 - 4)).toBe(Math.ceil(core.length / 512) - 1);

    const info = await readDisk(out);
    expect(info.bootCode).toEqual({ present: true, grub: true, grubCoreLba: 1 });
    expect(info.fat?.type).toBe(32);
    expect(info.fat?.label).toBe("BOOTMEDIA");
    expect(info.fat?.files.map((f) => f.path).sort()).toEqual(
      tree()
        .map((e) => e.path)
        .sort(),
    );
  });

  it("is byte-identical for the same sourceDateEpoch", async () => {
    const a = join(work, "a.img"),
      b = join(work, "b.img");
    await writeUsbImage(tree(), { sourceDateEpoch: EPOCH, bios: { bootImg: BOOT_IMG, coreImg } }, a);
    await writeUsbImage(tree().reverse(), { sourceDateEpoch: EPOCH, bios: { bootImg: BOOT_IMG, coreImg } }, b);
    expect((await readFile(a)).equals(await readFile(b))).toBe(true);
  });

  it("honours a given disk size and leaves BIOS boot code out when not asked", async () => {
    const out = join(work, "sized.img");
    const plan = await writeUsbImage(tree(), { sourceDateEpoch: EPOCH, sizeBytes: 64 * 2 ** 20 }, out);
    expect(plan.totalBytes).toBe(64 * 2 ** 20);
    const info = await readDisk(out);
    expect(info.bootCode.present).toBe(false);
    expect(info.partitions[0]).toMatchObject({ bootable: true, type: 0x0c, startLba: 2048 });
  });

  it("refuses bad GRUB images and oversized files before writing, and removes nothing else", async () => {
    const out = join(work, "refused.img");
    const bigCore = join(work, "big-core.img");
    await writeFile(bigCore, Buffer.alloc(1024 * 1024));
    await expect(
      writeUsbImage(tree(), { sourceDateEpoch: EPOCH, bios: { bootImg: BOOT_IMG, coreImg: bigCore } }, out),
    ).rejects.toMatchObject({ code: "BM3209" });
    await expect(
      writeUsbImage(tree(), { sourceDateEpoch: EPOCH, bios: { bootImg: coreImg, coreImg } }, out),
    ).rejects.toMatchObject({ code: "BM3208" });
    const huge = join(work, "huge.wim");
    await execa("truncate", ["-s", String(2 ** 32 + 1), huge]);
    await expect(
      writeUsbImage(
        [{ type: "file", path: "sources/install.wim", size: 2 ** 32 + 1, source: { kind: "file", path: huge } }],
        { sourceDateEpoch: EPOCH },
        out,
      ),
    ).rejects.toMatchObject({ code: "BM3201" });
    expect(existsSync(out)).toBe(false);
  });

  it("deletes its half-written image when writing fails", async () => {
    const out = join(work, "half.img");
    // Planning never opens sources, so one that is gone by write time fails the copy (which
    // starts as soon as the image file exists): a coded error, and the file is removed.
    const entries: TreeEntry[] = [
      { type: "file", path: "x.bin", size: 10, source: { kind: "file", path: join(work, "vanished.bin") } },
    ];
    await expect(writeUsbImage(entries, { sourceDateEpoch: EPOCH }, out)).rejects.toMatchObject({ code: "BM4203" });
    expect(existsSync(out)).toBe(false);
  });
});
