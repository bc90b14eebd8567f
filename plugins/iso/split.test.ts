import { describe, expect, it } from "vitest";
import type { LayoutEntry, LayoutFile } from "../../core/types.ts";
import { entryCost, splitVolumes, VOLUME_OVERHEAD } from "./split.ts";

const MiB = 1024 * 1024;
const file = (path: string, size: number): LayoutFile => ({
  type: "file",
  path,
  size,
  source: { kind: "content", sha256: path.padEnd(64, "0").slice(0, 64) },
});
const pinned = (e: LayoutEntry) => e.path.startsWith("boot/");

describe("splitVolumes", () => {
  it("keeps pinned entries on volume 1 and packs the rest in path order within capacity", () => {
    const entries = [
      file("boot/vmlinuz", 3 * MiB),
      file("content/b", 3 * MiB),
      file("content/a", 3 * MiB),
      file("content/c", 3 * MiB),
    ];
    const r = splitVolumes(entries, pinned, 10 * MiB);
    expect(r.volumes.map((v) => v.entries.map((e) => e.path))).toEqual([
      ["boot/vmlinuz", "content/a"],
      ["content/b", "content/c"],
    ]);
    for (const v of r.volumes)
      expect(v.entries.reduce((n, e) => n + entryCost(e), 0) + VOLUME_OVERHEAD).toBeLessThanOrEqual(10 * MiB);
    expect(r.split).toEqual([]);
  });

  it("cuts a file larger than a volume into parts that cover it exactly, in order", () => {
    const r = splitVolumes([file("boot/x", MiB), file("content/huge", 25 * MiB)], pinned, 10 * MiB);
    const parts = r.split[0]!.parts;
    expect(parts.map((p) => p.volume)).toEqual([1, 2, 3, 4]);
    expect(parts.reduce((n, p) => n + p.size, 0)).toBe(25 * MiB);
    parts.forEach((p, i) => expect(p.offset).toBe(i === 0 ? 0 : parts[i - 1]!.offset + parts[i - 1]!.size));
    expect(parts.map((p) => p.path)).toEqual([
      "content/huge.part1",
      "content/huge.part2",
      "content/huge.part3",
      "content/huge.part4",
    ]);
  });

  it("refuses when the boot files alone do not fit one volume", () => {
    expect(() => splitVolumes([file("boot/big", 20 * MiB)], pinned, 10 * MiB)).toThrow(/boot files alone/);
  });
});
