/**
 * readFat / readDisk on damaged FAT images made from real ones (our writer and mkfs.fat +
 * mcopy, FAT12/16/32): every damage is a coded error, fast, never an empty listing, an
 * unrolled loop or a crash. The intact images are first checked against mtools, and a bare
 * file system (no partition table, as `bootmedia image fat` writes) is read as one.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { treeFromDir } from "../../base/dir-tree.ts";
import { readDisk } from "../disk/read.ts";
import { encodeRecord } from "../record.ts";
import {
  fatFirstSubdir,
  fatLoopToRoot,
  fatSelfLoop,
  mkfsFatImage,
  setFatCluster,
  setFatEntry,
  writeSampleTree,
} from "../testing/damage.ts";
import { readFat, readFatFile } from "./read.ts";
import { BPB } from "./structures.ts";
import { listWithMtools } from "./testing/oracles.ts";
import { writeFat } from "./write.ts";

let work: string;
const images: Record<string, Buffer> = {};
const MAKERS = [
  "ours FAT12",
  "ours FAT16",
  "ours FAT32",
  "mkfs.fat FAT12",
  "mkfs.fat FAT16",
  "mkfs.fat FAT32",
] as const;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-fat-damaged-"));
  const src = join(work, "src");
  await writeSampleTree(src);
  const entries = await treeFromDir(src);
  for (const t of [12, 16, 32] as const) {
    const ours = join(work, `ours${t}.img`);
    await writeFat(entries, { sourceDateEpoch: 1700000000, fatType: t, label: `OURS${t}` }, ours);
    images[`ours FAT${t}`] = await readFile(ours);
    images[`mkfs.fat FAT${t}`] = await readFile(await mkfsFatImage(src, join(work, "x"), t));
  }
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function damaged(maker: string, name: string, damage: (img: Buffer) => Buffer | void): Promise<string> {
  const img = Buffer.from(images[maker]);
  const out = join(work, `${maker.replace(/\W+/g, "-")}-${name}.img`);
  await writeFile(out, damage(img) ?? img);
  return out;
}

async function expectCode(path: string, code: string): Promise<void> {
  const t0 = performance.now();
  await expect(readFat(path)).rejects.toMatchObject({ code });
  expect(performance.now() - t0).toBeLessThan(2000);
}

describe.each(MAKERS)("readFat on a damaged image made by %s", (maker) => {
  it("reads the intact image as mtools lists it, and readDisk takes it for a bare file system", async () => {
    const path = await damaged(maker, "intact", () => undefined);
    const info = await readFat(path);
    const ours = [...info.files.map((f) => f.path), ...info.dirs.map((d) => `${d}/`)].sort();
    expect(ours).toEqual((await listWithMtools(path)).sort());
    const disk = await readDisk(path);
    expect(disk.partitionTable).toBe("none");
    expect(disk.fat?.files.map((f) => f.path).sort()).toEqual(info.files.map((f) => f.path).sort());
    expect((await readFatFile(path, "boot/grub/grub.cfg")).toString()).toBe("set timeout=5\n");
  });

  it("refuses a truncated image (BM4208)", async () => {
    await expectCode(await damaged(maker, "cut-half", (img) => img.subarray(0, Math.floor(img.length / 2))), "BM4208");
  });

  it("refuses a folder listing itself (BM4208), instead of 64 nested copies", async () => {
    await expectCode(await damaged(maker, "loop-self", (img) => fatSelfLoop(img)), "BM4208");
  });

  it("refuses a folder starting outside the volume (BM4208)", async () => {
    await expectCode(
      await damaged(maker, "far", (img) => setFatCluster(img, fatFirstSubdir(img).pos, 0x0ffffff0)),
      "BM4208",
    );
  });

  it("refuses a folder whose cluster chain loops (BM4208)", async () => {
    await expectCode(
      await damaged(maker, "chain-loop", (img) => {
        const c = fatFirstSubdir(img).cluster;
        setFatEntry(img, 0, c, c);
      }),
      "BM4208",
    );
  });

  it("refuses a folder whose chain reaches a free cluster (BM4208)", async () => {
    await expectCode(
      await damaged(maker, "chain-free", (img) => {
        const c = fatFirstSubdir(img).cluster;
        setFatEntry(img, 0, c, 0);
      }),
      "BM4208",
    );
  });

  it("refuses a boot sector claiming more sectors than the image holds (BM4208)", async () => {
    await expectCode(
      await damaged(maker, "huge", (img) => encodeRecord(BPB, { BPB_TotSec16: 0, BPB_TotSec32: 0xfffffff0 }, img)),
      "BM4208",
    );
  });
});

it("refuses a FAT32 folder pointing at the root (BM4208)", async () => {
  await expectCode(await damaged("ours FAT32", "loop-root", (img) => fatLoopToRoot(img)), "BM4208");
  await expectCode(await damaged("mkfs.fat FAT32", "loop-root", (img) => fatLoopToRoot(img)), "BM4208");
});
