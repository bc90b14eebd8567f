import { describe, expect, it } from "vitest";
import { checksumShortName, makeShortNames, makeVolumeLabel, toDosTimestamp, checkLongName } from "./names.ts";

const shorts = (names: string[]) => makeShortNames(names, "/").map((s) => s.raw);

describe("makeShortNames", () => {
  it("keeps plain upper-case 8.3 names and needs no LFN for them", () => {
    expect(makeShortNames(["README.TXT", "EFI"], "/")).toEqual([
      { raw: "README  TXT", needsLfn: false },
      { raw: "EFI        ", needsLfn: false },
    ]);
  });
  it("follows the spec's basis-name examples (Microsoft FAT spec §7.3)", () => {
    expect(shorts(["The quick brown.fox", "bootx64.efi", ".bashrc", "a+b=c.tar.gz"])).toEqual([
      "THEQUI~1FOX",
      "BOOTX64 EFI",
      "BASHRC~1   ",
      "A_B_CT~1GZ ",
    ]);
  });
  it("gives a family of long names unique tails past ~9 and ~99", () => {
    const names = Array.from({ length: 120 }, (_, i) => `Report of the month ${i}.document`);
    const raw = shorts(names);
    expect(new Set(raw).size).toBe(120);
    expect(raw).toContain("REPORT~9DOC");
    expect(raw).toContain("REPOR~10DOC");
    expect(raw).toContain("REPO~100DOC");
  });
  it("never lets a generated tail take a name given verbatim", () => {
    expect(shorts(["Long name.txt", "LONGNA~1.TXT"])).toEqual(["LONGNA~2TXT", "LONGNA~1TXT"]);
  });
});

describe("names and labels", () => {
  it("computes the LFN checksum of spec §7.2", () => {
    // Independent check: every mtools comparison in fat.test.ts shows long names, which mtools
    // only does when this checksum matches; here only that it depends on every byte.
    const base = checksumShortName(Buffer.from("README  TXT"));
    for (let i = 0; i < 11; i++) {
      const b = Buffer.from("README  TXT");
      b[i] ^= 1;
      expect(checksumShortName(b)).not.toBe(base);
    }
  });
  it("refuses names FAT cannot hold with BM3204", () => {
    for (const bad of ["a:b", "trailing.", "trailing ", "x".repeat(256), "tab\there", "q?"]) {
      expect(() => checkLongName(bad, bad)).toThrow(expect.objectContaining({ code: "BM3204" }));
    }
    expect(() => checkLongName("Ünïcode name + [x].txt", "ok")).not.toThrow();
  });
  it("upper-cases labels and refuses invalid ones with BM3203", () => {
    expect(makeVolumeLabel("Boot Media")).toBe("BOOT MEDIA ");
    expect(makeVolumeLabel(undefined)).toBeUndefined();
    for (const bad of ["TWELVE CHARS", "a.b", "é"])
      expect(() => makeVolumeLabel(bad)).toThrow(expect.objectContaining({ code: "BM3203" }));
  });
  it("encodes DOS timestamps in UTC and clamps before 1980", () => {
    // 2023-11-14 22:13:20 UTC
    expect(toDosTimestamp(1700000000)).toEqual({
      date: ((2023 - 1980) << 9) | (11 << 5) | 14,
      time: (22 << 11) | (13 << 5) | 10,
    });
    expect(toDosTimestamp(0)).toEqual({ date: (1 << 5) | 1, time: 0 });
  });
});
