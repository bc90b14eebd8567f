import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { execa } from "execa";
import { createHash } from "node:crypto";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TreeEntry } from "../../base/tree.ts";
import { FAT_TYPES, planFat, readFat, readFatFile, writeFat } from "./index.ts";
import { fillFatEntries, listChains } from "./encode.ts";
import { checkWithFsck, compareExtracted, extractWithMtools, listWithMtools } from "./testing/oracles.ts";
import { generateRandomTree } from "./testing/random-tree.ts";

const EPOCH = 1700000000;
const bytes = (s: string) => new TextEncoder().encode(s);
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-fat-test-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function sampleTree(big: string): TreeEntry[] {
  return [
    { type: "file", path: "README.TXT", size: 5, source: { kind: "bytes", data: bytes("hello") } },
    { type: "file", path: "EFI/BOOT/BOOTX64.EFI", size: 70001, source: { kind: "file", path: big } },
    {
      type: "file",
      path: "boot/grub/grub.cfg",
      size: 12,
      source: { kind: "bytes", data: bytes("set timeout=0").slice(0, 12) },
    },
    { type: "file", path: "Long File Name number one.txt", size: 3, source: { kind: "bytes", data: bytes("one") } },
    { type: "file", path: "Long File Name number two.txt", size: 0, source: { kind: "bytes", data: new Uint8Array() } },
    { type: "file", path: "dir/ünïcödé ñame 日本語.txt", size: 4, source: { kind: "bytes", data: bytes("uuuu") } },
    { type: "dir", path: "empty folder" },
  ];
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

async function expectOraclesAgree(image: string, entries: TreeEntry[], offset = 0, size?: number): Promise<void> {
  const fsck = await checkWithFsck(image, offset, size);
  expect(fsck.output, fsck.output).toMatch(/files, \d+\/\d+ clusters/);
  expect(fsck.ok, fsck.output).toBe(true);
  const listed = await listWithMtools(image, offset);
  const dir = await extractWithMtools(image, offset);
  try {
    expect(await compareExtracted(entries, dir, listed)).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("writeFat", () => {
  let big: string;
  beforeAll(async () => {
    big = join(work, "big.bin");
    await writeFile(big, Buffer.from(Array.from({ length: 70001 }, (_, i) => (i * 7) & 0xff)));
  });

  it.each(FAT_TYPES)("writes a FAT%i volume that fsck.fat and mtools accept", async (fatType) => {
    const out = join(work, `sample${fatType}.img`);
    const entries = sampleTree(big);
    const plan = await writeFat(entries, { sourceDateEpoch: EPOCH, label: "BootMedia", fatType }, out);
    expect(plan.fatType).toBe(fatType);
    expect((await stat(out)).size).toBe(plan.totalBytes);
    await expectOraclesAgree(out, entries);
    const label = await execa("mlabel", ["-s", "-i", out, "::"], { env: { MTOOLS_SKIP_CHECK: "1" } });
    expect(label.stdout).toContain("BOOTMEDIA");
    // Our reader agrees with mtools on names and sizes (used by `bootmedia inspect`).
    const info = await readFat(out);
    expect(info.type).toBe(fatType);
    expect(info.label).toBe("BOOTMEDIA");
    expect(info.files.map((f) => [f.path, f.size]).sort()).toEqual(
      entries
        .filter((e) => e.type === "file")
        .map((e) => [e.path, e.size])
        .sort(),
    );
    expect((await readFatFile(out, "efi/boot/bootx64.efi")).equals(await readFile(big))).toBe(true);
  });

  it("chooses the type from the size when none is forced (cluster counts per spec §3.5)", () => {
    const entries = sampleTree("/dev/null").filter((e) => e.type === "dir" || e.source.kind === "bytes");
    expect(planFat(entries, { sourceDateEpoch: EPOCH }).fatType).toBe(12);
    expect(planFat(entries, { sourceDateEpoch: EPOCH, sizeBytes: 64 * 2 ** 20 }).fatType).toBe(16);
    expect(planFat(entries, { sourceDateEpoch: EPOCH, sizeBytes: 1024 * 2 ** 20 }).fatType).toBe(32);
    const p32 = planFat(entries, { sourceDateEpoch: EPOCH, fatType: 32 });
    expect(p32.clusterCount).toBeGreaterThan(65525);
  });

  it("writes byte-identical images for the same sourceDateEpoch, and a new serial for another", async () => {
    const entries = sampleTree(big);
    const [a, b, c] = ["a", "b", "c"].map((n) => join(work, `repro-${n}.img`));
    await writeFat(entries, { sourceDateEpoch: EPOCH, label: "R" }, a);
    await writeFat([...entries].reverse(), { sourceDateEpoch: EPOCH, label: "R" }, b);
    await writeFat(entries, { sourceDateEpoch: EPOCH + 1, label: "R" }, c);
    expect(await sha256(a)).toBe(await sha256(b));
    expect((await readFat(a)).volumeId).not.toBe((await readFat(c)).volumeId);
  });

  it("writes a volume at an offset inside an existing file, leaving the bytes before it alone", async () => {
    const out = join(work, "inside.img");
    const entries = sampleTree(big);
    const plan = planFat(entries, { sourceDateEpoch: EPOCH, fatType: 16 });
    const head = Buffer.alloc(2 ** 20, 0x5a);
    await writeFile(out, Buffer.concat([head, Buffer.alloc(plan.totalBytes)]));
    const fh = await open(out, "r+");
    try {
      await writeFat(entries, { sourceDateEpoch: EPOCH, fatType: 16 }, { fd: fh.fd, offset: 2 ** 20 });
    } finally {
      await fh.close();
    }
    expect((await readFile(out)).subarray(0, 2 ** 20).equals(head)).toBe(true);
    await expectOraclesAgree(out, entries, 2 ** 20, plan.totalBytes);
  });

  it("reports progress up to the total of file bytes", async () => {
    const seen: number[] = [];
    const plan = await writeFat(
      sampleTree(big),
      {
        sourceDateEpoch: EPOCH,
        onProgress: (d, t) => {
          seen.push(d);
          expect(t).toBe(70001 + 5 + 12 + 3 + 4);
        },
      },
      join(work, "progress.img"),
    );
    expect(seen.at(-1)).toBe(plan.fileBytes);
  });
});

describe("random trees against fsck.fat and mtools", () => {
  const cases = [
    [1, 12],
    [2, 16],
    [3, 32],
    [4, undefined],
  ] as const;
  it.each(cases)("seed %i, FAT%s", async (seed, fatType) => {
    const tree = await generateRandomTree(seed, join(work, `rand${seed}`), {
      maxFiles: 40,
      maxFileBytes: fatType === 12 ? 20_000 : 200_000,
    });
    const out = join(work, `rand${seed}.img`);
    await writeFat(tree.entries, { sourceDateEpoch: EPOCH + seed, label: `SEED${seed}`, fatType }, out);
    await expectOraclesAgree(out, tree.entries);
  });
});

describe("refusals (coded errors, nothing written)", () => {
  it("refuses a file of 4 GiB + 1 byte with BM3201 naming the file and its size", async () => {
    const huge = join(work, "huge.wim");
    await execa("truncate", ["-s", String(2 ** 32 + 1), huge]);
    const out = join(work, "huge.img");
    const entries: TreeEntry[] = [
      {
        type: "file",
        path: "sources/install.wim",
        size: (await stat(huge)).size,
        source: { kind: "file", path: huge },
      },
    ];
    const err = await writeFat(entries, { sourceDateEpoch: EPOCH, fatType: 32 }, out).catch((e) => e);
    expect(err.code).toBe("BM3201");
    expect(err.message).toContain("sources/install.wim");
    expect(err.message).toContain("4294967297");
    expect(err.message).toContain("FAT32");
    expect(err.hint).toMatch(/ISO|split/);
    expect(existsSync(out)).toBe(false);
    await rm(huge);
  });

  it("refuses content larger than the given size with BM3202 naming both sizes", async () => {
    const out = join(work, "small.img");
    const data = new Uint8Array(3 * 2 ** 20);
    const err = await writeFat(
      [{ type: "file", path: "a.bin", size: data.length, source: { kind: "bytes", data } }],
      { sourceDateEpoch: EPOCH, sizeBytes: 2 ** 21 },
      out,
    ).catch((e) => e);
    expect(err.code).toBe("BM3202");
    expect(err.message).toContain(String(2 ** 21));
    expect(err.message).toContain(String(data.length));
    expect(existsSync(out)).toBe(false);
  });

  it("refuses names that differ only in case (BM3205) and sizes the type cannot hold (BM3206)", () => {
    const f = (path: string): TreeEntry => ({
      type: "file",
      path,
      size: 0,
      source: { kind: "bytes", data: new Uint8Array() },
    });
    expect(() => planFat([f("a/Readme.txt"), f("a/README.TXT")], { sourceDateEpoch: EPOCH })).toThrow(
      expect.objectContaining({ code: "BM3205" }),
    );
    expect(() => planFat([f("x")], { sourceDateEpoch: EPOCH, fatType: 32, sizeBytes: 8 * 2 ** 20 })).toThrow(
      expect.objectContaining({ code: "BM3206" }),
    );
    expect(() => planFat([f("x"), { type: "dir", path: "x" }], { sourceDateEpoch: EPOCH })).toThrow(
      expect.objectContaining({ code: "BM3207" }),
    );
  });

  it("deletes its half-written output when a source changed size (BM4201)", async () => {
    const src = join(work, "shrinks.bin");
    await writeFile(src, Buffer.alloc(100));
    const out = join(work, "changed.img");
    const err = await writeFat(
      [{ type: "file", path: "s.bin", size: 200, source: { kind: "file", path: src } }],
      { sourceDateEpoch: EPOCH },
      out,
    ).catch((e) => e);
    expect(err.code).toBe("BM4201");
    expect(existsSync(out)).toBe(false);
  });
});

describe("FAT generation in chunks (how big volumes are written)", () => {
  it("gives the same entries chunk by chunk as whole, with file runs before directory runs", async () => {
    const tree = await generateRandomTree(11, join(work, "chunks"), { maxFiles: 120 });
    const plan = planFat(tree.entries, { sourceDateEpoch: EPOCH, fatType: 32, sizeBytes: 600 * 2 ** 20 });
    expect(Math.min(...plan.dirs.map((d) => d.firstCluster))).toBeGreaterThan(
      Math.max(...plan.files.map((f) => f.firstCluster)),
    );
    const chains = listChains(plan);
    const used = plan.usedClusters + 2;
    const whole = new Uint32Array(used);
    fillFatEntries(plan, chains, 0, used, whole);
    for (const chunk of [1, 7, 64]) {
      const pieces: number[] = [];
      const part = new Uint32Array(chunk);
      for (let from = 0; from < used; from += chunk) {
        const to = Math.min(used, from + chunk);
        fillFatEntries(plan, chains, from, to, part);
        pieces.push(...part.subarray(0, to - from));
      }
      expect(pieces).toEqual([...whole]);
    }
    // Every cluster up to the last used one belongs to a chain: no free cluster inside the content.
    expect([...whole.subarray(2)].every((v) => v !== 0)).toBe(true);
  });
});
