import { describe, expect, it } from "vitest";
import { makeRandom } from "../testing/random.ts";
import { encodeUcs2, mapJolietName } from "./names.ts";
import { compareCodePoints } from "./tree.ts";

const POOL = [
  "a",
  "B",
  "_",
  "~",
  "é",
  "ß",
  "\u00ff",
  "\u4e2d",
  "\ud7ff",
  "\ue000",
  "\uff21",
  "\uffff",
  "😀",
  "𝔸",
  "\u0001",
  "*",
  "\\",
  ":",
];
function randomName(rnd: () => number): string {
  let s = "";
  for (let n = 1 + Math.floor(rnd() * 70); n > 0; n--) s += POOL[Math.floor(rnd() * POOL.length)];
  return s;
}

describe("name order and mapping shortcuts", () => {
  it("compareCodePoints orders as UTF-8 bytes do (surrogates against U+E000 and above included)", () => {
    const rnd = makeRandom(5);
    for (let i = 0; i < 5000; i++) {
      const a = randomName(rnd),
        b = rnd() < 0.3 ? [...a].slice(0, -1).join("") + POOL[Math.floor(rnd() * POOL.length)] : randomName(rnd);
      expect(Math.sign(compareCodePoints(a, b)), `${a} / ${b}`).toBe(
        Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );
    }
  });

  it("Joliet names sort by their UTF-16 units as by their UCS-2 bytes, and the as-is shortcut maps like the long way", () => {
    const rnd = makeRandom(6);
    const slow = (name: string) => {
      let out = "";
      for (const ch of name) {
        const cp = ch.codePointAt(0)!;
        out += cp > 0xffff || cp < 0x20 || "*/:;?\\".includes(ch) ? "_" : ch;
      }
      return out.slice(0, 64);
    };
    for (let i = 0; i < 5000; i++) {
      const a = randomName(rnd),
        b = randomName(rnd);
      const [ja, jb] = [mapJolietName(a), mapJolietName(b)];
      expect(ja).toBe(slow(a));
      const units = ja < jb ? -1 : ja > jb ? 1 : 0;
      expect(units).toBe(Math.sign(Buffer.compare(encodeUcs2(ja), encodeUcs2(jb))));
    }
  });
});
