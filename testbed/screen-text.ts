/**
 * What a running machine's screen says, read over QMP: a screendump (whose size tells text
 * mode from graphics) and, in text mode, the VGA text buffer (vga-text.ts).
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { QmpClient } from "./qmp.ts";
import { VGA_TEXT, decodeVgaText, isTextModeScreen, pngSize } from "./vga-text.ts";

type ScreenRead =
  | { mode: "text"; rows: string[] }
  /** A framebuffer: no text to read (UEFI GOP, VESA/DRM consoles); judge by the serial line instead. */
  | { mode: "graphics"; width: number; height: number };

/** Reads the screen once; `scratch` is a folder for QEMU's two files (removed after). */
export async function readScreen(qmp: QmpClient, scratch: string): Promise<ScreenRead> {
  const png = join(scratch, "poll.png");
  const text = join(scratch, "vga-text.bin");
  try {
    await qmp.screendump(png);
    const size = pngSize(await readFile(png));
    if (!size) throw new Error("QEMU wrote no PNG screendump");
    if (!isTextModeScreen(size.width, size.height)) return { mode: "graphics", ...size };
    await qmp.pmemsave(VGA_TEXT.base, VGA_TEXT.size, text);
    return { mode: "text", rows: decodeVgaText(await readFile(text)) };
  } finally {
    await rm(png, { force: true });
    await rm(text, { force: true });
  }
}
