import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, mkdir, truncate, writeFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { hashTree } from "../../testing/tree-hash.ts";
import { bootmedia, scratchFixtures } from "../../testing/cli.ts";
import { checkWithFsck, extractWithMtools } from "../../formats/fat/testing/oracles.ts";
import { PARTITION_START_LBA } from "../../formats/disk/index.ts";
import { silentProgress } from "../../core/progress.ts";
import { approveDevice, copyImageToDevice } from "./device-write.ts";
import type { LsblkDevice } from "./device.ts";

const run = promisify(execFile);
let fx: Awaited<ReturnType<typeof scratchFixtures>>;
const env = () => ({ BOOTMEDIA_CACHE: fx.cache, SOURCE_DATE_EPOCH: "1764000000" });
const offset = PARTITION_START_LBA * 512;
const usbArgs = (name: string, ...more: string[]) => [
  "build",
  fx.spec("sample-dir.yaml"),
  "--target",
  "usb",
  "--out",
  fx.out(name),
  "--quiet",
  ...more,
];

beforeAll(async () => {
  fx = await scratchFixtures();
});

describe("usb target", () => {
  it("writes a disk image whose partition table and FAT32 the independent tools accept, holding the media", async () => {
    const r = await bootmedia(usbArgs("media.img"), { env: env() });
    expect(r.exitCode, r.stderr).toBe(0);
    const image = fx.out("media.img");
    const { stdout } = await run("sfdisk", ["--json", image]);
    const part = JSON.parse(stdout).partitiontable.partitions[0];
    expect(part).toMatchObject({ start: 2048, type: "c", bootable: true });
    const fsck = await checkWithFsck(image, offset, part.size * 512);
    expect(fsck.ok, fsck.output).toBe(true);
    const dir = await extractWithMtools(image, offset);
    const tree = await hashTree(dir);
    expect(Object.keys(tree)).toEqual(
      expect.arrayContaining([
        "EFI/BOOT/BOOTX64.EFI",
        "bootmedia/media.json",
        "bootmedia/media.env",
        "bootmedia/prestart/check.sh",
      ]),
    );
    const config = JSON.parse(await readFile(join(dir, "bootmedia/media.json"), "utf8"));
    expect(config.id).toBe("contoso-x64");
    await rm(dir, { recursive: true, force: true });

    const inspected = JSON.parse((await bootmedia(["inspect", image, "--json"])).stdout);
    expect(inspected).toMatchObject({
      kind: "usb",
      partitions: [{ index: 1, bootable: true, type: 0x0c, startLba: 2048 }],
      filesystem: { type: "FAT32" },
    });
    expect(inspected.config.id).toBe("contoso-x64");
    expect(inspected.files.map((f: { path: string }) => f.path)).toContain("bootmedia/prestart/check.sh");
  });

  it("is byte-identical for two builds with the same SOURCE_DATE_EPOCH", async () => {
    expect((await bootmedia(usbArgs("a.img"), { env: env() })).exitCode).toBe(0);
    expect((await bootmedia(usbArgs("b.img"), { env: env() })).exitCode).toBe(0);
    expect(Buffer.compare(await readFile(fx.out("a.img")), await readFile(fx.out("b.img")))).toBe(0);
  });

  it("refuses a file of 4 GiB + 1 byte before writing anything", async () => {
    const big = join(fx.dir, "fixtures/specs/bigfile");
    await mkdir(big, { recursive: true });
    await writeFile(join(big, "install.wim"), "");
    await truncate(join(big, "install.wim"), 4 * 1024 ** 3 + 1);
    const r = await bootmedia([...usbArgs("big.img"), "--prestart-files", "bigfile", "--json"], { env: env() });
    expect(r.exitCode).toBe(1);
    const errors = JSON.parse(r.stdout).diagnostics.filter((d: { severity: string }) => d.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe("BM3201");
    expect(errors[0].message).toContain("install.wim");
    expect(errors[0].message).toContain("4294967297");
    expect(existsSync(fx.out("big.img"))).toBe(false);
    expect((await readdir(fx.out(""))).filter((n) => n.includes("bootmedia-"))).toEqual([]);
    // nothing was fetched either: validation runs before the cache is filled
    const { stdout } = await run("find", [fx.cache, "-type", "f", "-size", "+100M"]);
    expect(stdout).toBe("");
    await rm(big, { recursive: true, force: true });
    // Resolve hashes the prestart files (4 GiB of zeros: ~10 s idle, over a minute on a loaded machine).
  }, 240_000);
});

describe("writing to a drive (a file stands in for the device)", () => {
  const stick = (over: Partial<LsblkDevice> = {}): LsblkDevice => ({
    name: "sdz",
    path: "/dev/sdz",
    size: 64 * 1024 ** 2,
    type: "disk",
    rm: true,
    hotplug: true,
    tran: "usb",
    mountpoints: [null],
    model: "Test Stick",
    serial: "TS123",
    ro: false,
    ...over,
  });

  it("asks with model, size and serial, copies, flushes and verifies by reading back", async () => {
    const image = fx.out("media.img");
    const device = join(fx.dir, "fake-device");
    await writeFile(device, Buffer.alloc(64 * 1024 ** 2));
    let asked = "";
    await approveDevice(device, 36 * 1024 ** 2, {
      yes: false,
      probe: async () => stick(),
      ask: async (q) => ((asked = q), "yes"),
      progress: silentProgress.stage("x"),
    });
    expect(asked).toContain("Test Stick, 0.1 GB, serial TS123");
    const r = await copyImageToDevice(image, device, silentProgress.stage("copy"));
    const img = await readFile(image);
    expect(r.bytes).toBe(img.length);
    expect(Buffer.compare((await readFile(device)).subarray(0, img.length), img)).toBe(0);
  });

  it("leaves the drive untouched when the answer is not yes, or the drive is mounted", async () => {
    const opts = { yes: false, ask: async () => "no", progress: silentProgress.stage("x") };
    await expect(approveDevice("/dev/sdz", 1, { ...opts, probe: async () => stick() })).rejects.toMatchObject({
      code: "BM3307",
    });
    const mounted = stick({
      children: [{ ...stick({ name: "sdz1", path: "/dev/sdz1", type: "part" }), mountpoints: ["/media/x"] }],
    });
    await expect(
      approveDevice("/dev/sdz", 1, { ...opts, yes: true, probe: async () => mounted }),
    ).rejects.toMatchObject({ code: "BM3302" });
  });
});
