/**
 * addOsImage on images made by sgdisk/sfdisk + mkfs.ext4 and compressed by the real zstd, xz
 * and gzip programs. Oracles: sfdisk -J (the partitions), sha256sum of the file and of
 * `<tool> -dc` (the hashes), sgdisk -v (the table is sound), cmp (the stored bytes), fsck.ext4
 * (the root partition of the image is the file system we made). Every bad input a coded error
 * that leaves the library as it was.
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BootmediaError } from "../../base/errors.ts";
import { parseManifest } from "../../core/content/manifest.ts";
import { addOsImage } from "./os-image.ts";
import { verifyLibrary } from "./library-admin.ts";
import { blankFile, compressWith, debianLikeDisk, gptDisk } from "./testing/disk-images.ts";

const MiB = 1024 * 1024;
let dir: string;
let raw: string;
const sha256sum = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];
const sh = (script: string, ...args: string[]) =>
  execFileSync("sh", ["-c", script, "sh", ...args], { encoding: "utf8" });
const libs: string[] = [];
function freshLibrary(): string {
  const lib = join(dir, `lib${libs.length}`);
  libs.push(lib);
  return lib;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bm-os-image-"));
  raw = debianLikeDisk(join(dir, "debian-12-x64.img"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BootmediaError) {
      expect(e.hint).not.toBe("");
      return e.code;
    }
    throw e;
  }
  return "no error";
}

describe("addOsImage", () => {
  it.each(["none", "zstd", "xz", "gzip"] as const)(
    "adds a %s image: partitions as sfdisk -J reads them, both sha256s as sha256sum, the user's file untouched",
    async (compression) => {
      const image = compression === "none" ? raw : compressWith(compression, raw);
      const before = { sha: sha256sum(image), mtime: statSync(image).mtimeMs };
      const lib = freshLibrary();
      const lines: string[] = [];
      const pkg = await addOsImage(lib, { image, arch: "x64", id: "DEB12", log: (l) => lines.push(l) });
      const o = pkg.osImage!;
      const suffix = { none: ".raw", zstd: ".raw.zst", xz: ".raw.xz", gzip: ".raw.gz" }[compression];
      expect(o.image).toBe(`debian-12-x64${suffix}`);
      expect(o.compression).toBe(compression);
      const stored = join(lib, "packages/DEB12/files", o.image);
      execFileSync("cmp", [image, stored]);
      expect(pkg.files).toEqual([{ path: o.image, size: statSync(image).size, sha256: sha256sum(image) }]);
      expect(o.size).toBe(statSync(raw).size);
      expect(o.sha256).toBe(sha256sum(raw));
      if (compression !== "none")
        expect(o.sha256).toBe(sh(`${compression} -dc "$1" | sha256sum`, stored).split(" ")[0]);
      const sfdisk = JSON.parse(execFileSync("sfdisk", ["-J", raw], { encoding: "utf8" })).partitiontable;
      expect(o.partitionTable).toBe("gpt");
      expect(o.partitions).toEqual(
        sfdisk.partitions.map((p: { node: string; start: number; size: number; type: string; name: string }) => ({
          index: Number(/(\d+)$/.exec(p.node)![1]),
          start: p.start * 512,
          size: p.size * 512,
          type: p.type.toLowerCase(),
          name: p.name,
        })),
      );
      expect(o.rootPartition).toBe(3);
      expect(o.firmware).toEqual(["bios", "uefi"]);
      expect(o.secureBoot).toBe(false);
      // the manifest on disk is what was returned, and parses
      const onDisk = JSON.parse(readFileSync(join(lib, "packages/DEB12/package.json"), "utf8"));
      expect(onDisk).toEqual(pkg);
      expect(parseManifest(onDisk, "DEB12").osImage).toEqual(o);
      expect(lines.at(-1)).toContain("added DEB12");
      expect({ sha: sha256sum(image), mtime: statSync(image).mtimeMs }).toEqual(before);
      expect(readdirSync(join(lib, "packages"))).toEqual(["DEB12"]);
      expect((await verifyLibrary(lib)).problems).toEqual([]);
    },
  );

  it("the root partition the manifest names holds the ext4 file system (fsck.ext4 -n at its offset); sgdisk -v is clean", () => {
    expect(execFileSync("sgdisk", ["-v", raw], { encoding: "utf8" })).toContain("No problems found");
    const sfdisk = JSON.parse(execFileSync("sfdisk", ["-J", raw], { encoding: "utf8" })).partitiontable;
    const root = sfdisk.partitions[2];
    const part = join(dir, "root.part");
    execFileSync("dd", [
      `if=${raw}`,
      `of=${part}`,
      "bs=512",
      `skip=${root.start}`,
      `count=${root.size}`,
      "status=none",
    ]);
    execFileSync("fsck.ext4", ["-n", part], { stdio: "ignore" });
    rmSync(part);
  });

  it("ids: OSI + 5 digits, the next free one; a taken id is BM2303", async () => {
    const lib = freshLibrary();
    const a = await addOsImage(lib, { image: raw, arch: "x64" });
    const b = await addOsImage(lib, { image: raw, arch: "x64", secureBoot: true, name: "Debian", version: "12.8" });
    expect([a.id, b.id]).toEqual(["OSI00001", "OSI00002"]);
    expect([b.name, b.version, b.osImage!.secureBoot]).toEqual(["Debian", "12.8", true]);
    expect(await codeOf(addOsImage(lib, { image: raw, arch: "x64", id: "OSI00001" }))).toBe("BM2303");
  });

  it("moveImage: the caller's temporary is moved in, not copied (same inode)", async () => {
    const tmpImage = join(dir, "built.raw.zst");
    copyFileSync(compressWith("zstd", raw), tmpImage);
    const ino = statSync(tmpImage).ino;
    const lib = freshLibrary();
    const pkg = await addOsImage(lib, { image: tmpImage, arch: "x64", id: "M", moveImage: true });
    const stored = join(lib, "packages/M/files", pkg.osImage!.image);
    expect(statSync(stored).ino).toBe(ino);
    expect(existsSync(tmpImage)).toBe(false);
    expect(pkg.files[0]!.sha256).toBe(sha256sum(stored));
    expect((await verifyLibrary(lib)).problems).toEqual([]);
  });

  it("manifestExtras land in the manifest beside its own keys, which they cannot replace", async () => {
    const lib = freshLibrary();
    const build = { debs: [{ name: "linux-image-amd64", version: "6.1.0", arch: "amd64", sha256: "c".repeat(64) }] };
    const pkg = await addOsImage(lib, { image: raw, arch: "x64", id: "B", manifestExtras: { build } });
    expect(JSON.parse(readFileSync(join(lib, "packages/B/package.json"), "utf8")).build).toEqual(build);
    expect((pkg as unknown as { build: unknown }).build).toEqual(build);
    expect(await codeOf(addOsImage(lib, { image: raw, arch: "x64", manifestExtras: { files: [] } }))).toBe("BM2312");
  });

  it("an MBR image: firmware bios from its boot code, the root is the largest Linux partition; testbed hints kept", async () => {
    const mbr = blankFile(join(dir, "mbr.img"), 32 * MiB);
    execFileSync("sfdisk", ["--no-reread", "-q", mbr], { input: "label: dos\n2048,8192,83\n,16384,83,*\n,,82\n" });
    sh('printf "\\353\\143\\220" | dd of="$1" conv=notrunc status=none', mbr);
    const pkg = await addOsImage(freshLibrary(), {
      image: mbr,
      arch: "x86",
      testbed: { pass: { serial: "login:" }, memoryMiB: 256 },
    });
    const o = pkg.osImage!;
    expect(o.partitionTable).toBe("mbr");
    expect(o.partitions.map((p) => p.type)).toEqual(["0x83", "0x83", "0x82"]);
    expect(o.rootPartition).toBe(2);
    expect(o.firmware).toEqual(["bios"]);
    expect(o.testbed).toEqual({ pass: { serial: "login:" }, memoryMiB: 256 });
  });

  it("--firmware overrides what the table shows; --root-partition names the root when no Linux root is found", async () => {
    const win = gptDisk(join(dir, "basic.img"), 32 * MiB, ["1:2048:+8M:ef00:esp", "2:0:0:0700:data"]);
    const lib = freshLibrary();
    expect(await codeOf(addOsImage(lib, { image: win, arch: "x64" }))).toBe("BM2308");
    expect(await codeOf(addOsImage(lib, { image: win, arch: "x64", rootPartition: 7 }))).toBe("BM2308");
    const lines: string[] = [];
    const pkg = await addOsImage(lib, {
      image: win,
      arch: "x64",
      rootPartition: 2,
      firmware: ["uefi", "bios"],
      log: (l) => lines.push(l),
    });
    expect(pkg.osImage!.rootPartition).toBe(2);
    expect(pkg.osImage!.firmware).toEqual(["bios", "uefi"]);
    expect(lines).toContain("note: --firmware bios although the table shows no BIOS-boot partition or MBR boot code");
  });

  describe("refuses, leaving the library as it was", () => {
    const cases: Array<[string, () => Promise<unknown>, string]> = [];
    const lib = () => join(dir, "refusing");
    const add = (opts: Partial<Parameters<typeof addOsImage>[1]> & { image: string }) =>
      addOsImage(lib(), { arch: "x64", ...opts });
    cases.push(
      ["an unknown arch", () => add({ image: raw, arch: "arm64" }), "BM2301"],
      ["a missing file", () => add({ image: join(dir, "nope.img") }), "BM2302"],
      ["an unknown firmware", () => add({ image: raw, firmware: ["coreboot"] }), "BM2312"],
      ["--secure-boot without uefi", () => add({ image: raw, firmware: ["bios"], secureBoot: true }), "BM2312"],
      ["--root-partition 0", () => add({ image: raw, rootPartition: 0 }), "BM2312"],
      ["a bad id", () => add({ image: raw, id: "../x" }), "BM2305"],
      ["no partition table (zeros)", () => add({ image: blankFile(join(dir, "zeros.img"), 8 * MiB) }), "BM4205"],
      [
        "no partition table, zstd-compressed",
        () => add({ image: compressWith("zstd", blankFile(join(dir, "zeros2.img"), 8 * MiB)) }),
        "BM4205",
      ],
      [
        "a table larger than the image (cut to 32 MiB, then xz-compressed)",
        () => {
          const cut = join(dir, "cut.img");
          copyFileSync(raw, cut);
          truncateSync(cut, 32 * MiB);
          return add({ image: compressWith("xz", cut) });
        },
        "BM4221",
      ],
      [
        "a damaged GPT header (CRC32)",
        () => {
          const bad = join(dir, "badcrc.img");
          copyFileSync(raw, bad);
          sh('printf X | dd of="$1" bs=1 seek=600 conv=notrunc status=none', bad);
          return add({ image: compressWith("gzip", bad) });
        },
        "BM4220",
      ],
      ...(["zstd", "xz", "gzip"] as const).map((tool): [string, () => Promise<unknown>, string] => [
        `a ${tool} stream cut short`,
        () => {
          const whole = compressWith(tool, raw);
          const cut = join(dir, `cut-stream.${tool}`);
          copyFileSync(whole, cut);
          truncateSync(cut, Math.floor(statSync(whole).size / 2));
          return add({ image: cut });
        },
        "BM2307",
      ]),
      [
        "a size that is not whole sectors",
        () => {
          const odd = join(dir, "odd.img");
          copyFileSync(raw, odd);
          truncateSync(odd, 64 * MiB + 100);
          return add({ image: odd });
        },
        "BM2309",
      ],
      [
        "an x86 root partition given --arch x64",
        () => add({ image: gptDisk(join(dir, "x86.img"), 16 * MiB, ["1:2048:+1M:ef02", "2:0:0:8303"]) }),
        "BM2310",
      ],
      [
        "a table that shows no boot path",
        () => add({ image: gptDisk(join(dir, "noboot.img"), 16 * MiB, ["1:2048:0:8304"]) }),
        "BM2314",
      ],
    );
    it.each(cases)("%s", async (_what, run, code) => {
      expect(await codeOf(run())).toBe(code);
      const left = (() => {
        try {
          return readdirSync(join(lib(), "packages"));
        } catch {
          return [];
        }
      })();
      expect(left).toEqual([]);
    });
  });

  it("verify: a changed stored byte is BM2304; a manifest whose uncompressed sha256 lies is found too", async () => {
    const lib = freshLibrary();
    const pkg = await addOsImage(lib, { image: compressWith("zstd", raw), arch: "x64", id: "V" });
    const manifestPath = join(lib, "packages/V/package.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    manifest.osImage.sha256 = "0".repeat(64);
    writeFileSync(manifestPath, JSON.stringify(manifest));
    expect((await verifyLibrary(lib)).problems.map((p) => p.message)).toEqual([
      `V/${pkg.osImage!.image}: the uncompressed bytes' sha256 differs from the manifest's`,
    ]);
    writeFileSync(manifestPath, JSON.stringify(pkg));
    const stored = join(lib, "packages/V/files", pkg.osImage!.image);
    sh('printf Z | dd of="$1" bs=1 seek=100 conv=notrunc status=none', stored);
    const problems = (await verifyLibrary(lib)).problems;
    expect(problems.length).toBe(1);
    expect(["BM2304", "BM2307"]).toContain(problems[0]!.code);
  });
});

describe("the osImage manifest section", () => {
  const good = () => ({
    id: "OSI00001",
    type: "os-image",
    name: "x",
    version: "1",
    osImage: {
      arch: "x64",
      firmware: ["uefi"],
      secureBoot: false,
      image: "d.raw.zst",
      compression: "zstd",
      size: 64 * MiB,
      sha256: "a".repeat(64),
      partitionTable: "gpt",
      partitions: [
        { index: 1, start: MiB, size: 8 * MiB, type: "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", name: "esp" },
        { index: 2, start: 9 * MiB, size: 50 * MiB, type: "4f68bce3-e8cd-4db1-96e7-fbcaf984b709" },
      ],
      rootPartition: 2,
    },
    files: [{ path: "d.raw.zst", size: 1000, sha256: "b".repeat(64) }],
  });
  type M = ReturnType<typeof good>;
  it("parses a sound one", () => expect(parseManifest(good(), "t").osImage?.rootPartition).toBe(2));
  it.each([
    ["the image not among the files", (m: M) => void (m.osImage.image = "e.raw.zst")],
    ["a suffix not of its compression", (m: M) => void (m.osImage.compression = "xz")],
    ["a root partition not listed", (m: M) => void (m.osImage.rootPartition = 3)],
    ["a partition past the disk", (m: M) => void (m.osImage.partitions[1]!.size = 60 * MiB)],
    ["overlapping partitions", (m: M) => void (m.osImage.partitions[1]!.start = 8 * MiB)],
    ["an MBR type in a GPT", (m: M) => void (m.osImage.partitions[1]!.type = "0x83")],
    ["a size not whole sectors", (m: M) => void (m.osImage.size = 64 * MiB + 1)],
    ["no firmware", (m: M) => void (m.osImage.firmware = [])],
    ["an upper-case GUID", (m: M) => void (m.osImage.partitions[0]!.type = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B")],
    ["an os-image without the section", (m: M) => void delete (m as Partial<M>).osImage],
    ["the section on another type", (m: M) => void (m.type = "prestart")],
  ])("refuses %s (BM2003)", (_what, edit) => {
    const m = good();
    edit(m);
    expect(() => parseManifest(m, "t")).toThrow(expect.objectContaining({ code: "BM2003" }));
  });
});
