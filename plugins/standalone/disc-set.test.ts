import { describe, expect, it } from "vitest";
import { MAX_DISCS, packDiscs } from "./disc-set.ts";

const SECTOR = 2048;
const MiB = 2 ** 20;
const file = (name: string, size: number) => ({ stored: `bootmedia/content/P1/${name}`, size });
/** Room per disc; every disc already holds bootmedia/content/P1 (no directory to pay for). */
const pack = (files: Array<{ stored: string; size: number }>, room: (disc: number) => number) =>
  packDiscs(files, room, () => ["bootmedia", "bootmedia/content", "bootmedia/content/P1"]);

describe("packDiscs", () => {
  it("fills disc 1's room first, then cuts the file that does not fit at a sector boundary, one piece a disc", () => {
    const packed = pack([file("a", 1 * MiB), file("b", 10 * MiB), file("c", 100)], (d) =>
      d === 1 ? 3 * MiB : 4 * MiB,
    )!;
    expect(packed.discs).toBe(4);
    const [a, b, c] = packed.spans;
    expect(a).toEqual([{ disc: 1, offset: 0, size: MiB }]);
    expect(b!.map((s) => s.disc)).toEqual([1, 2, 3, 4]);
    for (const s of b!.slice(0, -1)) expect(s.size % SECTOR).toBe(0);
    // Contiguous, and the whole file.
    expect(b!.reduce((off, s) => (expect(s.offset).toBe(off), off + s.size), 0)).toBe(10 * MiB);
    // Each piece takes what its disc had left (less the records of one entry), to the sector.
    expect(2 * MiB - b![0]!.size).toBeLessThan(SECTOR + 1024);
    expect(4 * MiB - b![1]!.size).toBeLessThan(SECTOR + 1024);
    expect(c).toEqual([{ disc: 4, offset: 0, size: 100 }]);
  });

  it("keeps a file whole when it fits the room left, and pays for new directories", () => {
    const packed = packDiscs(
      [file("a", MiB)],
      () => MiB + 16384,
      () => ["bootmedia"],
    );
    expect(packed).toEqual({ spans: [[{ disc: 1, offset: 0, size: MiB }]], discs: 1 });
    // Room for the file and its records, but not for its two new directories: the file is cut.
    expect(
      packDiscs(
        [file("a", MiB)],
        () => MiB + 4096,
        () => ["bootmedia"],
      )!.spans[0]!.length,
    ).toBe(2);
  });

  it(`gives up beyond ${MAX_DISCS} discs, and when a disc has no room for a sector`, () => {
    expect(pack([file("a", 100 * MiB)], () => MiB)).toBeUndefined();
    expect(pack([file("a", 99 * MiB - 99 * 4096)], () => MiB)?.discs).toBe(MAX_DISCS);
    expect(pack([file("a", 1)], () => 100)).toBeUndefined();
  });
});
