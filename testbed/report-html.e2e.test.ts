/** Renders the HTML report in headless Chromium (Debian's `chromium`) and checks the picture. */
import { describe, it, expect, afterAll } from "vitest";
import { execa } from "execa";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildMatrix } from "./matrix.ts";
import { writeReport, summarizeCases, REPORT_FILES } from "./report.ts";
import { fakeResult } from "./testing/results.ts";

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--window-size=1280,900",
];

describe("HTML report in a browser", () => {
  const root = mkdtempSync(join(tmpdir(), "bm-html-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("renders to a non-blank page", async () => {
    const cases = buildMatrix(
      [{ kind: "iso", path: "/m/a.iso", images: ["x64"], drivers: ["e1000"], label: "x64" }],
      undefined,
      ["e1000"],
    );
    const results = cases.map((c, i) => fakeResult(root, c, i));
    await writeReport(root, { schema: 1, accel: "tcg", shard: null, summary: summarizeCases(results), cases: results });
    const png = join(root, "page.png");
    await execa(
      "chromium",
      [
        ...CHROMIUM_FLAGS,
        `--user-data-dir=${join(root, "profile")}`,
        `--screenshot=${png}`,
        pathToFileURL(join(root, REPORT_FILES.html)).href,
      ],
      { timeout: 60_000, stdin: "ignore" },
    );
    expect(existsSync(png)).toBe(true);
    // ImageMagick decodes the PNG (the oracle); a blank page would have one colour.
    const { stdout } = await execa("convert", [png, "ppm:-"], { encoding: "buffer", stripFinalNewline: false });
    const { width, height, pixels } = parsePpm(Buffer.from(stdout));
    expect([width, height]).toEqual([1280, 900]);
    const colours = new Set<number>();
    for (let i = 0; i < pixels.length; i += 3) colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
    expect(colours.size).toBeGreaterThan(10);
  }, 90_000);
});

/** Binary PPM (netpbm P6): "P6 <w> <h> <max>" then RGB bytes. */
function parsePpm(data: Buffer): { width: number; height: number; pixels: Buffer } {
  const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(data.subarray(0, 64).toString("latin1"));
  if (!header) throw new Error("not a binary PPM");
  return { width: Number(header[1]), height: Number(header[2]), pixels: data.subarray(header[0].length) };
}
