/**
 * readPartitionTable against images made by sgdisk and sfdisk, read back by `sfdisk -J` (the
 * oracle); then hostile tables: each damage a coded error, and random bytes never anything else.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readSync, closeSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { BootmediaError } from "../../base/errors.ts";
import { readPartitionTable, type PartitionTable } from "./partitions.ts";
import { readDisk } from "./read.ts";

const dir = mkdtempSync(join(tmpdir(), "bm-partitions-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 1024 * 1024;

function head(path: string, bytes = MiB): Buffer {
  const buf = Buffer.alloc(bytes);
  const fd = openSync(path, "r");
  const n = readSync(fd, buf, 0, bytes, 0);
  closeSync(fd);
  return buf.subarray(0, n);
}

function blankImage(name: string, size: number): string {
  const path = join(dir, name);
  writeFileSync(path, "");
  execFileSync("truncate", ["-s", String(size), path]);
  return path;
}

interface SfdiskJson {
  partitiontable: {
    label: "gpt" | "dos";
    id: string;
    lastlba?: number;
    sectorsize: number;
    partitions: Array<{
      start: number;
      size: number;
      type: string;
      uuid?: string;
      name?: string;
      bootable?: boolean;
      node: string;
    }>;
  };
}
const sfdiskJson = (path: string): SfdiskJson => JSON.parse(execFileSync("sfdisk", ["-J", path], { encoding: "utf8" }));

/** What sfdisk -J says, in our reader's terms (MBR: the primary slots only). */
function expectMatchesSfdisk(t: PartitionTable, oracle: SfdiskJson): void {
  const o = oracle.partitiontable;
  const ss = o.sectorsize;
  expect(t.kind).toBe(o.label === "dos" ? "mbr" : "gpt");
  expect(t.sectorSize).toBe(ss);
  expect(t.diskId).toBe(o.id.replace(/^0x/, "").toLowerCase());
  if (o.lastlba !== undefined) expect(t.lastUsableLba).toBe(o.lastlba);
  const primaries = o.partitions
    .map((p) => ({ ...p, index: Number(/(\d+)$/.exec(p.node)![1]) }))
    .filter((p) => o.label === "gpt" || p.index <= 4);
  expect(
    t.partitions.map((p) => ({
      index: p.index,
      start: p.start,
      size: p.size,
      type: p.type,
      name: p.name,
      guid: p.guid,
    })),
  ).toEqual(
    primaries.map((p) => ({
      index: p.index,
      start: p.start * ss,
      size: p.size * ss,
      type: o.label === "gpt" ? p.type.toLowerCase() : `0x${p.type.padStart(2, "0")}`,
      name: o.label === "gpt" ? (p.name ?? "") : undefined,
      guid: p.uuid?.toLowerCase(),
    })),
  );
}

function gptImage(name = "gpt.img", size = 64 * MiB): string {
  const path = blankImage(name, size);
  execFileSync("sgdisk", [
    "-n1:2048:+1M",
    "-t1:ef02",
    "-c1:bios",
    "-n2:0:+8M",
    "-t2:ef00",
    "-c2:EFI system (ESP) ü",
    "-n3:0:0",
    "-t3:8304",
    "-c3:root",
    path,
  ]);
  return path;
}

/** Edits the primary GPT of a 512-byte-sector head, then makes both CRCs right again (unless told not to). */
function editGpt(buf: Buffer, edit: (header: Buffer, entries: Buffer) => void, fixCrc = true): Buffer {
  const b = Buffer.from(buf);
  const header = b.subarray(512, 512 + 92);
  const entries = b.subarray(1024, 1024 + 128 * 128);
  edit(header, entries);
  if (fixCrc) {
    const count = header.readUInt32LE(80),
      size = header.readUInt32LE(84);
    if (count * size <= b.length - 1024) header.writeUInt32LE(crc32(b.subarray(1024, 1024 + count * size)), 88);
    header.writeUInt32LE(0, 16);
    header.writeUInt32LE(crc32(header), 16);
  }
  return b;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof BootmediaError) return e.code;
    throw e;
  }
  return "no error";
}

describe("readPartitionTable", () => {
  it("reads sgdisk's GPT as sfdisk -J does: types, names, GUIDs, usable area (512-byte sectors)", () => {
    const path = gptImage();
    const t = readPartitionTable(head(path), statSync(path).size, path);
    expectMatchesSfdisk(t, sfdiskJson(path));
    expect(t.partitions.map((p) => p.name)).toEqual(["bios", "EFI system (ESP) ü", "root"]);
    expect(t.backupLba).toBe(64 * 2048 - 1);
    expect(t.mbrBootCode).toBe(false);
    expect(execFileSync("sgdisk", ["-v", path], { encoding: "utf8" })).toContain("No problems found");
  });

  it("reads a GPT of 4096-byte sectors (made on a 4Kn loop device; sfdisk -J reads it there)", (ctx) => {
    const path = blankImage("gpt4k.img", 64 * MiB);
    const loop = spawnSync("losetup", ["-f", "--show", "--sector-size", "4096", path], { encoding: "utf8" });
    if (loop.status !== 0) return ctx.skip(`no loop device here: ${loop.stderr.trim()}`);
    const dev = loop.stdout.trim();
    let oracle: SfdiskJson;
    try {
      execFileSync("sgdisk", ["-n1:0:+8M", "-t1:ef00", "-c1:esp", "-n2:0:0", "-t2:8300", "-c2:data", dev]);
      oracle = sfdiskJson(dev);
    } finally {
      execFileSync("losetup", ["-d", dev]);
    }
    expect(oracle.partitiontable.sectorsize).toBe(4096);
    const t = readPartitionTable(head(path), statSync(path).size, path);
    expectMatchesSfdisk(t, oracle);
  });

  it("reads an MBR made by sfdisk: primaries, the active flag, an extended partition as one (logical ones not walked)", () => {
    const path = blankImage("mbr.img", 64 * MiB);
    execFileSync("sfdisk", ["--no-reread", "-q", path], {
      input: "label: dos\nlabel-id: 0x1234abcd\n2048,16384,ef,*\n,16384,83\n,,5\n,8192,83\n",
    });
    const t = readPartitionTable(head(path), statSync(path).size, path);
    const oracle = sfdiskJson(path);
    expect(oracle.partitiontable.partitions.length).toBe(4); // three primaries + one logical
    expectMatchesSfdisk(t, oracle);
    expect(t.diskId).toBe("1234abcd");
    expect(t.partitions.map((p) => [p.index, p.bootable, p.extended ?? false])).toEqual([
      [1, true, false],
      [2, false, false],
      [3, false, true],
    ]);
  });

  it("readDisk (bootmedia inspect) lists a GPT behind its protective MBR, and says why a damaged one is unreadable", async () => {
    const path = gptImage("inspect.img");
    const oracle = sfdiskJson(path).partitiontable;
    const disk = await readDisk(path);
    expect(disk.gpt).toMatchObject({
      diskGuid: oracle.id.toLowerCase(),
      partitions: oracle.partitions.map((p) => ({
        start: p.start * 512,
        size: p.size * 512,
        type: p.type.toLowerCase(),
      })),
    });
    execFileSync("sh", ["-c", 'printf X | dd of="$1" bs=1 seek=600 conv=notrunc status=none', "sh", path]);
    expect((await readDisk(path)).gpt).toEqual({ error: expect.stringMatching(/^BM4220 .*CRC32/) });
  });

  it("sees BIOS boot code in the (protective) MBR", () => {
    const path = gptImage("gpt-boot.img");
    const b = head(path);
    b.fill(0x90, 0, 440);
    expect(readPartitionTable(b, statSync(path).size, path).mbrBootCode).toBe(true);
  });

  describe("hostile tables are coded errors", () => {
    const path = gptImage("hostile.img");
    const good = head(path);
    const size = statSync(path).size;
    const read =
      (b: Buffer, bytes = size) =>
      () =>
        readPartitionTable(b, bytes, "x.img");

    it.each([
      ["a zero sector (no boot signature)", Buffer.alloc(4096), "BM4205"],
      ["less than a sector", Buffer.alloc(100), "BM4205"],
      ["an MBR listing nothing", (() => Buffer.from(good).fill(0, 446, 510))(), "BM4205"],
      ["a protective MBR without a GPT header", (() => Buffer.from(good).fill(0, 512, 520))(), "BM4220"],
    ])("%s", (_what, buf, code) => expect(codeOf(read(buf as Buffer))).toBe(code));

    it("a header whose CRC32 does not match", () => {
      expect(codeOf(read(editGpt(good, (h) => h.writeUInt32LE((h.readUInt32LE(16) ^ 1) >>> 0, 16), false)))).toBe(
        "BM4220",
      );
      // the name of partition 1 changed: entries CRC32 wrong, header CRC32 right
      const b = editGpt(good, (_h, e) => (e[56] = 0x41), false);
      expect(codeOf(read(b))).toBe("BM4220");
    });
    it.each([
      ["an entry count of 4 billion", (h: Buffer) => h.writeUInt32LE(0xffffffff, 80), "BM4220"],
      ["an entry count of 100000", (h: Buffer) => h.writeUInt32LE(100000, 80), "BM4220"],
      ["an entry size of 0", (h: Buffer) => h.writeUInt32LE(0, 84), "BM4220"],
      ["an entry size of 100", (h: Buffer) => h.writeUInt32LE(100, 84), "BM4220"],
      ["a header size of 10", (h: Buffer) => h.writeUInt32LE(10, 12), "BM4220"],
      ["a header that says it is not at LBA 1", (h: Buffer) => h.writeBigUInt64LE(5n, 24), "BM4220"],
      ["entries at LBA 0 (over the MBR)", (h: Buffer) => h.writeBigUInt64LE(0n, 72), "BM4220"],
      ["entries past the first usable LBA", (h: Buffer) => h.writeBigUInt64LE(100n, 72), "BM4220"],
      ["an LBA beyond 2^53", (h: Buffer) => h.writeBigUInt64LE(1n << 60n, 48), "BM4220"],
      ["revision 2.0", (h: Buffer) => h.writeUInt32LE(0x20000, 8), "BM4220"],
      ["a backup header past the image", (h: Buffer) => h.writeBigUInt64LE(BigInt(size / 512), 32), "BM4221"],
      ["a last usable LBA past the image", (h: Buffer) => h.writeBigUInt64LE(BigInt(size / 512 + 10), 48), "BM4221"],
    ])("%s", (_what, edit, code) => expect(codeOf(read(editGpt(good, edit)))).toBe(code));

    it.each([
      [
        "a partition past the image's end",
        (e: Buffer) => e.writeBigUInt64LE(BigInt(size / 512 + 100), 256 + 40),
        "BM4221",
      ],
      ["a partition ending before it starts", (e: Buffer) => e.writeBigUInt64LE(10n, 128 + 40), "BM4220"],
      ["a partition over the entry array", (e: Buffer) => e.writeBigUInt64LE(2n, 32), "BM4220"],
      ["overlapping partitions", (e: Buffer) => e.writeBigUInt64LE(2048n + 100n, 128 + 32), "BM4220"],
    ])("%s", (_what, edit, code) => expect(codeOf(read(editGpt(good, (_h, e) => edit(e))))).toBe(code));

    it("a table larger than the image: the image cut short (sgdisk -v agrees)", () => {
      const cut = join(dir, "cut.img");
      execFileSync("cp", [path, cut]);
      execFileSync("truncate", ["-s", String(32 * MiB), cut]);
      expect(codeOf(read(head(cut), 32 * MiB))).toBe("BM4221");
      // the oracle: sgdisk -v on the cut image finds the problem too
      const v = spawnSync("sgdisk", ["-v", cut], { encoding: "utf8" });
      expect(v.stdout).toContain("Disk is too small to hold all the data");
    });

    it("an MBR partition past the image's end, over the MBR itself, or a bad boot flag", () => {
      const mbr = blankImage("mbr-hostile.img", 8 * MiB);
      execFileSync("sfdisk", ["--no-reread", "-q", mbr], { input: "label: dos\n2048,8192,83\n" });
      const b = head(mbr);
      expect(codeOf(read(b, 4 * MiB))).toBe("BM4221");
      const zero = Buffer.from(b);
      zero.writeUInt32LE(0, 446 + 8);
      expect(codeOf(read(zero, 8 * MiB))).toBe("BM4220");
      const flag = Buffer.from(b);
      flag[446] = 0x12; // boot flags are 0x00 or 0x80: these bytes are not an MBR
      expect(codeOf(read(flag, 8 * MiB))).toBe("BM4205");
    });

    it("a GPT listing no partition is no table (sgdisk -o: an empty GPT)", () => {
      const empty = blankImage("empty-gpt.img", 8 * MiB);
      execFileSync("sgdisk", ["-o", empty], { stdio: "ignore" });
      expect(sfdiskJson(empty).partitiontable.partitions ?? []).toEqual([]);
      expect(codeOf(read(head(empty), 8 * MiB))).toBe("BM4205");
    });

    it("a FAT file system without a table is no table", () => {
      const fat = blankImage("fat.img", 8 * MiB);
      execFileSync("mkfs.vfat", ["-F", "32", fat], { stdio: "ignore" });
      expect(codeOf(read(head(fat), 8 * MiB))).toBe("BM4205");
    });

    it("random damage to the first 20 KiB is a table or a coded error, never a crash or a partition outside", () => {
      let seed = 12345;
      const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
      const outcomes = new Map<string, number>();
      for (let round = 0; round < 3000; round++) {
        const b = Buffer.from(good.subarray(0, 20 * 1024));
        const flips = 1 + Math.floor(rnd() * 4);
        for (let i = 0; i < flips; i++) b[Math.floor(rnd() * (round % 2 ? 1024 : b.length))] = Math.floor(rnd() * 256);
        const fixed = round % 3 === 0 ? editGpt(b, () => {}) : b;
        try {
          const t = readPartitionTable(fixed, size, "fuzz.img");
          for (const p of t.partitions) expect(p.start + p.size).toBeLessThanOrEqual(size);
          outcomes.set("ok", (outcomes.get("ok") ?? 0) + 1);
        } catch (e) {
          expect(e).toBeInstanceOf(BootmediaError);
          const code = (e as BootmediaError).code;
          outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
        }
      }
      for (const k of outcomes.keys()) expect(["ok", "BM4205", "BM4220", "BM4221"]).toContain(k);
      expect(outcomes.get("BM4220")).toBeGreaterThan(0);
    });
  });
});
