import { describe, it, expect } from "vitest";
import { execa } from "execa";
import { decodeVgaText, isTextModeScreen, pngSize, screenTextOf, VGA_TEXT } from "./vga-text.ts";

/** A text buffer the way VGA holds it: character, attribute, 80 cells a row. */
function textBuffer(rows: string[]): Uint8Array {
  const buf = new Uint8Array(VGA_TEXT.size);
  rows.forEach((row, r) => {
    for (let c = 0; c < row.length; c++) {
      buf[(r * 80 + c) * 2] = row.charCodeAt(c);
      buf[(r * 80 + c) * 2 + 1] = 0x1f;
    }
  });
  return buf;
}

describe("VGA text", () => {
  it("reads the 204 whole rows of 80 columns in the 32 KiB window, trailing blanks trimmed", () => {
    const rows = decodeVgaText(textBuffer(["SeaBIOS (version 1.16.2)", "", "Booting from DVD/CD..."]));
    expect(rows).toHaveLength(Math.floor(VGA_TEXT.size / 160));
    expect(rows.slice(0, 3)).toEqual(["SeaBIOS (version 1.16.2)", "", "Booting from DVD/CD..."]);
    expect(screenTextOf(rows)).toBe("SeaBIOS (version 1.16.2)\nBooting from DVD/CD...");
  });

  it("decodes the upper half as code page 437, like Python's cp437 codec", async () => {
    const buf = new Uint8Array(320);
    for (let b = 0x80; b < 0xff; b++) buf[(b - 0x80) * 2] = b;
    const [first, second] = decodeVgaText(buf);
    // Python's cp437 codec is the oracle (0xFF, a no-break space, is left out: ours trims it as a blank).
    const { stdout } = await execa("python3", [
      "-c",
      "import sys; sys.stdout.buffer.write(bytes(range(0x80,0xff)).decode('cp437').encode('utf-8'))",
    ]);
    expect(first! + second!).toBe(stdout);
    expect(decodeVgaText(new Uint8Array([0xc9, 7, 0xcd, 7, 0xbb, 7, ...new Uint8Array(154)]))[0]).toBe("╔═╗");
  });

  it("tells text mode from a framebuffer by the screen's size", () => {
    expect(isTextModeScreen(720, 400)).toBe(true);
    expect(isTextModeScreen(640, 480)).toBe(false);
    expect(isTextModeScreen(1280, 800)).toBe(false);
  });

  it("reads a PNG's size from its header, as Python's zlib-free parse does", () => {
    // A 3×2 PNG written by hand: signature, IHDR (width 3, height 2), as PNG §11.2.2 lays it out.
    const png = Buffer.from("89504e470d0a1a0a0000000d4948445200000003000000020806000000", "hex");
    expect(pngSize(png)).toEqual({ width: 3, height: 2 });
    expect(pngSize(Buffer.from("P6\n720 400\n255\n"))).toBeUndefined();
  });
});
