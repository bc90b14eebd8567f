/**
 * Reading text off a machine's screen without OCR: in VGA text mode (BIOS firmware, GRUB's
 * and Linux's vgacon console) the screen is a character buffer at physical 0xB8000, two
 * bytes a cell (code page 437 character, attribute). The testbed reads it over QMP
 * (`pmemsave`); a graphics mode (UEFI GOP, a VESA or DRM framebuffer) has no such buffer,
 * which the screenshot's size tells: text mode is 80 columns of 9 (or 8) dots by 25 rows
 * of 16 (or 14) lines.
 */

/** The VGA text window (IBM VGA Technical Reference, "Memory map"): 32 KiB at 0xB8000. */
export const VGA_TEXT = { base: 0xb8000, size: 0x8000, columns: 80 } as const;

/** Screen sizes (pixels) QEMU's VGA shows in 80×25 text mode. */
const TEXT_MODE_SIZES = new Set(["720x400", "640x400", "720x350", "640x350"]);

export function isTextModeScreen(width: number, height: number): boolean {
  return TEXT_MODE_SIZES.has(`${width}x${height}`);
}

/** Width and height from a PNG's IHDR chunk (PNG spec §11.2.2), or undefined for anything else. */
export function pngSize(png: Uint8Array): { width: number; height: number } | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || signature.some((b, i) => png[i] !== b)) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  // Signature (8), chunk length (4), "IHDR" (4), then width and height, big-endian.
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

// Code page 437, 0x80-0xFF (the VGA ROM font); 0x00-0x1F as blanks, the rest as ASCII.
const CP437_HIGH =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐" +
  "└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■ ";

function cp437(byte: number): string {
  if (byte < 0x20) return " ";
  if (byte < 0x7f) return String.fromCharCode(byte);
  if (byte === 0x7f) return " ";
  return CP437_HIGH[byte - 0x80]!;
}

/**
 * The character rows of a VGA text buffer, trailing blanks trimmed. The whole 32 KiB is
 * read because Linux's vgacon scrolls by moving the display start inside it: the visible
 * 25 rows are somewhere in these 204, next to earlier output.
 */
export function decodeVgaText(buffer: Uint8Array): string[] {
  const rowBytes = VGA_TEXT.columns * 2;
  const rows: string[] = [];
  for (let at = 0; at + rowBytes <= buffer.length; at += rowBytes) {
    let row = "";
    for (let i = at; i < at + rowBytes; i += 2) row += cp437(buffer[i]!);
    rows.push(row.trimEnd());
  }
  return rows;
}

/** Rows with text, in buffer order, joined by newlines (what a screen pattern is tested against). */
export function screenTextOf(rows: readonly string[]): string {
  return rows.filter((r) => r.trim() !== "").join("\n");
}
