import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  listOf,
  parseAppendPartition,
  parseBootSpec,
  parseIsoPartition,
  resolveSystemAreaPatch,
} from "./boot-flags.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bm-boot-flags-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("image iso boot flags", () => {
  it("--boot: platform, image, and each option as mkisofs names it", () => {
    expect(parseBootSpec("bios:boot/floppy.img,emul=floppy")).toEqual({
      platform: "bios",
      image: "boot/floppy.img",
      emulation: "floppy",
    });
    expect(parseBootSpec("bios:/isolinux/isolinux.bin,load-size=4,boot-info-table")).toEqual({
      platform: "bios",
      image: "isolinux/isolinux.bin",
      loadSectors: 4,
      bootInfoTable: true,
    });
    expect(parseBootSpec("efi:appended:2")).toEqual({ platform: "efi", image: { appendedPartition: 2 } });
    expect(parseBootSpec("0x02:boot/ppc.img,emul=none,grub2-boot-info")).toEqual({
      platform: 2,
      image: "boot/ppc.img",
      emulation: "none",
      grub2BootInfo: true,
    });
  });

  it("--boot refuses what it does not know, with the syntax in the message (BM1009)", () => {
    for (const bad of [
      "boot/x.img",
      "bios:x.img,emul=cdrom",
      "bios:x.img,load-size=-1",
      "uefi:x.img",
      "0x100:x.img",
      "bios:x.img,boot-info-table=yes",
    ]) {
      expect(() => parseBootSpec(bad), bad).toThrow(expect.objectContaining({ code: "BM1009" }));
    }
  });

  it("--append-partition and --mbr-iso-partition", async () => {
    const f = join(dir, "esp.img");
    await writeFile(f, Buffer.alloc(4096));
    expect(await parseAppendPartition(`2:0xef:${f}`)).toEqual({
      number: 2,
      type: 0xef,
      source: { path: f, offset: 0, size: 4096 },
    });
    await expect(parseAppendPartition(`2:0x1ef:${f}`)).rejects.toMatchObject({ code: "BM1009" });
    await expect(parseAppendPartition(`2:0xef:${join(dir, "none")}`)).rejects.toMatchObject({ code: "BM1009" });
    expect(parseIsoPartition("0xcd,start=1,active")).toEqual({ type: 0xcd, start: 1, bootable: true });
    expect(parseIsoPartition("0")).toEqual({ type: 0, start: 0, bootable: false });
    expect(() => parseIsoPartition("0x00,start=2")).toThrow(expect.objectContaining({ code: "BM1009" }));
  });

  it("repeated flags come as arrays from cac, single ones as strings", () => {
    expect(listOf(undefined)).toEqual([]);
    expect(listOf("a")).toEqual(["a"]);
    expect(listOf(["a", "b"])).toEqual(["a", "b"]);
  });

  it("--system-area-patch auto: isohybrid for an isolinux.bin carrying ISOLINUX's hybrid signature, else grub2", async () => {
    const isolinux = Buffer.alloc(2048);
    isolinux.writeUInt32LE(0x7078c0fb, 0x40);
    await writeFile(join(dir, "isolinux.bin"), isolinux);
    await writeFile(join(dir, "eltorito.img"), Buffer.alloc(2048));
    expect(await resolveSystemAreaPatch("auto", dir, [{ platform: "bios", image: "isolinux.bin" }])).toBe("isohybrid");
    expect(await resolveSystemAreaPatch("auto", dir, [{ platform: "bios", image: "eltorito.img" }])).toBe("grub2");
    expect(await resolveSystemAreaPatch("none", dir, [{ platform: "bios", image: "isolinux.bin" }])).toBe("none");
  });
});
