import { describe, expect, it } from "vitest";
import { parseSbat, parseSbatLevel, revokedBy } from "./sbat.ts";

describe("SBAT", () => {
  const grub3 =
    "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\ngrub,3,Free Software Foundation,grub,2.06,https://www.gnu.org/software/grub/\ngrub.debian,4,Debian,grub2,2.06-3~deb11u5,https://tracker.debian.org/pkg/grub2\n";
  it("flags each component below the level (shim's SbatLevel_Variable.txt 2024040900), not those at or above it", () => {
    const level = parseSbatLevel("sbat,1,2024040900\nshim,4\ngrub,4\ngrub.peimage,2\n")!;
    expect(level).toEqual({ date: "2024040900", minimum: { shim: 4, grub: 4, "grub.peimage": 2 } });
    expect(revokedBy(parseSbat(grub3), level)).toEqual([{ component: "grub", generation: 3, minimum: 4 }]);
    expect(revokedBy(parseSbat(grub3.replace("grub,3,", "grub,4,")), level)).toEqual([]);
  });
  it("keeps hostile lines out: no generation, negative, non-numeric, and caps the line count", () => {
    expect(parseSbat("grub\ngrub,-1\ngrub,x\n,3\n")).toEqual([]);
    expect(parseSbat("a,1\n".repeat(10_000))).toHaveLength(256);
    expect(parseSbatLevel("not sbat")).toBeNull();
    expect(revokedBy(parseSbat("__proto__,0\nconstructor,0\n"), { date: "x", minimum: {} })).toEqual([]);
  });
});
