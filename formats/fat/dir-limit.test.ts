/**
 * FAT's folder limit (Microsoft FAT spec §6: at most 65,536 32-byte entries, "." and ".."
 * and long-name entries included) is refused with BM3210 before anything is written, by
 * planFat, `bootmedia image fat` and the USB writer. fsck.fat does not notice the overflow;
 * Windows does.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { treeFromDir } from "../../base/dir-tree.ts";
import type { TreeEntry } from "../../base/tree.ts";
import { bootmedia } from "../../testing/cli.ts";
import { writeUsbImage } from "../disk/usb.ts";
import { planFat } from "./plan.ts";
import { MAX_DIR_ENTRIES } from "./structures.ts";

const EPOCH = 1700000000;
const empty = (path: string): TreeEntry => ({
  type: "file",
  path,
  size: 0,
  source: { kind: "bytes", data: new Uint8Array() },
});
/** `count` 8.3 names (no long-name entries) in folder `dir`. */
const shortNames = (dir: string, count: number) =>
  Array.from({ length: count }, (_, i) => empty(`${dir}/F${i.toString(16).toUpperCase()}.TXT`));

describe("planFat and FAT's 65,536-entry folder limit", () => {
  it('plans a sub-folder of exactly 65,536 entries (".", ".." and 65,534 names)', () => {
    expect(planFat(shortNames("D", MAX_DIR_ENTRIES - 2), { sourceDateEpoch: EPOCH, fatType: 32 }).files).toHaveLength(
      MAX_DIR_ENTRIES - 2,
    );
  });

  it("refuses one entry more with BM3210 naming the folder", () => {
    expect(() => planFat(shortNames("D", MAX_DIR_ENTRIES - 1), { sourceDateEpoch: EPOCH, fatType: 32 })).toThrow(
      expect.objectContaining({ code: "BM3210", where: "/D" }),
    );
  });

  it("counts long-name entries: 30,000 names of 20 characters take 90,000 entries", () => {
    const entries = Array.from({ length: 30_000 }, (_, i) => empty(`Long name ${String(i).padStart(10, "0")}`));
    expect(() => planFat(entries, { sourceDateEpoch: EPOCH })).toThrow(
      expect.objectContaining({ code: "BM3210", where: "/" }),
    );
  });
});

describe("a folder of 70,000 files", () => {
  let work: string, src: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "bm-fat-limit-"));
    src = join(work, "src");
    await mkdir(join(src, "many"), { recursive: true });
    await writeFile(join(src, "README.TXT"), "hi\n");
    for (let i = 0; i < 70_000; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => writeFile(join(src, "many", `file ${i + j}.txt`), "")));
    }
  }, 300_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("`bootmedia image fat` refuses it with BM3210 and writes nothing", async () => {
    const out = join(work, "out", "fs.img");
    await mkdir(join(work, "out"));
    const r = await bootmedia(["image", "fat", src, "-o", out]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("BM3210");
    expect(r.stderr).toContain("/many");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(out)).toBe(false);
    expect(await readdir(join(work, "out"))).toEqual([]);
  }, 300_000);

  it("the USB writer refuses it with BM3210 and leaves no image", async () => {
    const out = join(work, "usb.img");
    await expect(writeUsbImage(await treeFromDir(src), { sourceDateEpoch: EPOCH }, out)).rejects.toMatchObject({
      code: "BM3210",
    });
    expect(existsSync(out)).toBe(false);
  }, 300_000);
});
