import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkDevice, describeDevice, type LsblkDevice } from "./device.ts";

const sample = (name: string): LsblkDevice =>
  (
    JSON.parse(readFileSync(new URL(`./lsblk-samples/${name}.json`, import.meta.url), "utf8")) as {
      blockdevices: LsblkDevice[];
    }
  ).blockdevices[0]!;
const codes = (dev: LsblkDevice, need = 1e9) =>
  checkDevice(dev, need)
    .map((e) => e.code)
    .sort();

describe("device safety rules (lsblk --json samples)", () => {
  it("accepts an unmounted removable USB stick that is large enough", () => {
    expect(codes(sample("usb-stick"))).toEqual([]);
  });
  it("accepts a USB-attached SSD that reports removable=0 (USB transport)", () => {
    expect(codes(sample("usb-ssd"))).toEqual([]);
  });
  it("refuses a stick with a mounted partition, naming the mount point", () => {
    const errs = checkDevice(sample("usb-stick-mounted"), 1e9);
    expect(errs.map((e) => e.code)).toEqual(["BM3302"]);
    expect(errs[0]!.message).toContain("/media/alice/CRUZER");
  });
  it("refuses the fixed system disk on every count", () => {
    expect(codes(sample("nvme-system"))).toEqual(["BM3301", "BM3303"]);
  });
  it("refuses a fixed SATA data disk", () => {
    expect(codes(sample("sata-data-disk"))).toEqual(["BM3301"]);
  });
  it("refuses a removable drive running the system (a live USB)", () => {
    expect(codes(sample("usb-live-system"))).toEqual(["BM3303"]);
  });
  it("refuses a drive that is too small, naming both sizes", () => {
    const errs = checkDevice(sample("usb-stick-1gb"), 2_000_000_000);
    expect(errs.map((e) => e.code)).toEqual(["BM3304"]);
    expect(errs[0]!.message).toMatch(/1027604480 bytes.*2000000000 bytes/);
  });
  it("refuses a partition instead of a whole disk", () => {
    expect(codes(sample("usb-stick").children![0]!)).toContain("BM3305");
  });
  it("describes the drive with model, size and serial for the confirmation prompt", () => {
    expect(describeDevice(sample("usb-stick"))).toBe("Cruzer Blade, 15.9 GB, serial 4C530001230822117175, usb");
  });
});
