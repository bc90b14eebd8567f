import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readIso } from "./read.ts";
import { MAX_EXTENT } from "./records.ts";
import { writeIso } from "./write.ts";

/** 4 GiB + 3 MiB: three extents' worth of records is not needed, two prove the split. */
const SIZE = 2 ** 32 + 3 * 2 ** 20;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-iso-big-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("ISO level 3 multi-extent file", () => {
  it("a sparse file over 4 GiB is split into extents of at most 4 GiB - 2 KiB and reads back intact through xorriso", async () => {
    const src = join(work, "big.bin");
    await execa("truncate", ["-s", String(SIZE), src]);
    // Marks at the start, across the extent boundary and at the end, so a misplaced extent shows.
    const fh = await open(src, "r+");
    for (const at of [0, MAX_EXTENT - 7, SIZE - 9])
      await fh.write(Buffer.from(`MARK@${at}`.padEnd(9, "#").slice(0, 9)), 0, 9, at);
    await fh.close();
    const iso = join(work, "big.iso");
    await writeIso(
      [
        { type: "file", path: "data/big.bin", size: SIZE, source: { kind: "file", path: src } },
        { type: "file", path: "small.txt", size: 2, source: { kind: "bytes", data: Buffer.from("ok") } },
      ],
      { volumeId: "BIG", sourceDateEpoch: 0 },
      iso,
    );
    const info = await readIso(iso);
    const big = info.files.find((f) => f.path === "data/big.bin")!;
    expect(big.extents.map((e) => e.length)).toEqual([MAX_EXTENT, SIZE - MAX_EXTENT]);
    expect(big.extents[1].lba).toBe(big.extents[0].lba + MAX_EXTENT / 2048);
    // xorriso streams the file to cmp, which compares every byte with the source and fails on
    // a shorter or longer stream: the same proof as extracting and hashing both, without
    // writing and hashing 8 GiB more (~70 s on a busy 2-core machine).
    expect((await stat(src)).size).toBe(SIZE);
    const read = await execa("xorriso", ["-osirrox", "on", "-indev", iso, "-concat", "append", "-", "/data/big.bin"], {
      buffer: { stdout: false },
      reject: false,
    }).pipe("cmp", ["-", src], { reject: false });
    expect(`${read.stdout}${read.stderr}`).toBe("");
    expect(read.exitCode).toBe(0);
    expect(read.pipedFrom[0]!.exitCode).toBe(0);
  }, 300_000);
});
