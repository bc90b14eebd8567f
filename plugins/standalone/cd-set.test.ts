/**
 * Stand-alone CD/DVD sets through the real CLI: a 16 MiB OS image on discs of 8,000,000 bytes
 * is a set of three. Oracles: xorriso's El Torito report, isoinfo's volume descriptors,
 * osirrox extracting every disc, sha256sum of the pieces joined in content.txt's order, and
 * the OpenSSL CLI decrypting across the discs (testing/read-package.sh) as the boot environment
 * would; then inspect, inspect --check (a missing or foreign disc), plan, diff and the refusals.
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, openSync, statSync, writeSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../../testing/cli.ts";
import { bigPackageLibrary, DECRYPT_SCRIPT, testLibrary, type TestLibrary } from "./testing/library.ts";

const PW = "Correct-Horse-9-battery";
const env = { PW };
const CAPACITY = 8_000_000;
const MODES = [
  { name: "cdp", security: "security: { password: { env: PW } }\n", protected: true },
  { name: "cdu", security: "security: { allowUnprotected: true }\n", protected: false },
] as const;

let lib: TestLibrary;
let work: string;
beforeAll(async () => {
  lib = await testLibrary();
  work = await mkdtemp(join(tmpdir(), "bm-cdset-"));
}, 120_000);
afterAll(async () => {
  if (lib) await rm(lib.dir, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

const sha256 = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];
const out = (name: string) => join(lib.dir, "out", name);
const build = async (name: string, target: string, extra: string) =>
  bootmedia(["build", await lib.spec(name, target, extra), "--cache-dir", join(lib.dir, "cache")], { env });
/** The first block of a file in an ISO, as xorriso reports it. */
function lbaOf(iso: string, path: string): number {
  const report = execFileSync("xorriso", ["-indev", iso, "-find", path, "-exec", "report_lba", "--"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const m = /^File data lba:\s*\d+\s*,\s*(\d+)\s*,/m.exec(report);
  if (!m) throw new Error(`no LBA for ${path} in ${iso}: ${report}`);
  return Number(m[1]);
}
const extract = (iso: string, dir: string) =>
  execFileSync("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", dir], { stdio: "pipe" });

interface PieceLine {
  n: number;
  disc: number;
  offset: number;
  size: number;
  media: string;
}
/** content.txt's header and the C lines of one file, in the order they join (n). */
function readContentIndex(text: string, pkg: string, path: string) {
  const lines = text.trimEnd().split("\n");
  const header = lines[0]!.split("\t");
  const b64 = Buffer.from(path).toString("base64");
  const pieces: PieceLine[] = lines
    .map((l) => l.split("\t"))
    .filter((f) => f[0] === "C" && f[1] === pkg && f[6] === b64)
    .map((f) => ({
      n: Number(f[2]),
      disc: Number(f[3]),
      offset: Number(f[4]),
      size: Number(f[5]),
      media: Buffer.from(f[7]!, "base64").toString("utf8"),
    }))
    .sort((a, b) => a.n - b.n);
  return { setId: header[4]!, discs: Number(header[5]), pieces };
}

describe.each(MODES)("a stand-alone CD/DVD set ($name, protected: $protected)", (mode) => {
  const trees: string[] = [];
  let setId = "";

  beforeAll(async () => {
    const r = await build(
      mode.name,
      `{ type: iso, output: out/${mode.name}.iso, capacity: ${CAPACITY} }`,
      mode.security,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    for (let n = 1; n <= 3; n++) {
      const dir = join(work, `${mode.name}-${n}`);
      await mkdir(dir);
      extract(out(`${mode.name}-${n}.iso`), dir);
      trees.push(dir);
    }
  }, 180_000);

  it("is three ISOs, each within the capacity; only disc 1 boots; volume ids are numbered", async () => {
    const names = (await readdir(join(lib.dir, "out"))).filter(
      (f) => f.startsWith(`${mode.name}`) && f.endsWith(".iso"),
    );
    expect(names.sort()).toEqual([1, 2, 3].map((n) => `${mode.name}-${n}.iso`));
    for (let n = 1; n <= 3; n++) {
      const iso = out(`${mode.name}-${n}.iso`);
      expect(statSync(iso).size).toBeLessThanOrEqual(CAPACITY);
      const info = execFileSync("isoinfo", ["-d", "-i", iso], { encoding: "utf8" });
      expect(info).toMatch(new RegExp(`^Volume id: ${mode.name.toUpperCase()}_${n}$`, "m"));
      expect(Number(/^Volume size is: (\d+)$/m.exec(info)![1]) * 2048).toBeLessThanOrEqual(CAPACITY);
      const torito = execFileSync("xorriso", ["-indev", iso, "-report_el_torito", "plain"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      if (n === 1) {
        expect(torito).toMatch(/^El Torito boot img :\s+1\s+BIOS\s+y/m);
        expect(torito).toMatch(/^El Torito boot img :\s+2\s+UEFI\s+y/m);
      } else expect(torito).not.toContain("El Torito boot img");
    }
    // Disc 1 holds everything that is not package content; the data discs hold pieces and disc.txt only.
    for (const p of ["EFI/BOOT/BOOTX64.EFI", "boot/efi.img", "bootmedia/media.json", "bootmedia/manifest.json"])
      expect(existsSync(join(trees[0]!, p)), p).toBe(true);
    for (const p of ["task-sequence.txt", "content.txt", "index.json", ...(mode.protected ? ["index.mac"] : [])])
      expect(existsSync(join(trees[0]!, "bootmedia/standalone", p)), p).toBe(true);
    for (const tree of trees.slice(1)) {
      const files = execFileSync("find", [tree, "-type", "f"], { encoding: "utf8" }).trim().split("\n").sort();
      expect(files.map((f) => f.slice(tree.length + 1))).toEqual([
        expect.stringMatching(/^bootmedia\/content\/OSI00001\/disk\.raw(\.enc)?\.00\d$/),
        "bootmedia/standalone/disc.txt",
      ]);
    }
  });

  it("names each disc of its set in disc.txt; content.txt and index.json say where every piece is", async () => {
    const stored = `bootmedia/content/OSI00001/disk.raw${mode.protected ? ".enc" : ""}`;
    const index = readContentIndex(
      await readFile(join(trees[0]!, "bootmedia/standalone/content.txt"), "utf8"),
      "OSI00001",
      "disk.raw",
    );
    setId = index.setId;
    expect(setId).toMatch(/^[0-9a-f]{16}$/);
    expect(index.discs).toBe(3);
    for (let n = 1; n <= 3; n++)
      expect(await readFile(join(trees[n - 1]!, "bootmedia/standalone/disc.txt"), "utf8")).toBe(
        `bootmedia-disc\t1\t${setId}\t${n}\t3\n`,
      );
    // Pieces at sector boundaries, contiguous, named as USB pieces, at least one on every disc.
    expect(index.pieces.map((p) => p.media)).toEqual(index.pieces.map((_, n) => `${stored}.00${n}`));
    expect([...new Set(index.pieces.map((p) => p.disc))]).toEqual([1, 2, 3]);
    let offset = 0;
    for (const p of index.pieces) {
      expect(p.offset).toBe(offset);
      expect(p.offset % 2048).toBe(0);
      expect(statSync(join(trees[p.disc - 1]!, p.media)).size).toBe(p.size);
      offset += p.size;
    }
    expect(offset).toBe(16 * 2 ** 20);
    const json = JSON.parse(await readFile(join(trees[0]!, "bootmedia/standalone/index.json"), "utf8"));
    expect(json.set).toEqual({ id: setId, discs: 3 });
    expect(json.discs).toEqual(
      [1, 2, 3].map((n) => ({ index: n, pieces: index.pieces.filter((p) => p.disc === n).map((p) => p.media) })),
    );
  });

  it("joins its pieces from the extracted discs, in content.txt's order, to the index's stored sha256 and the original", async () => {
    const index = readContentIndex(
      await readFile(join(trees[0]!, "bootmedia/standalone/content.txt"), "utf8"),
      "OSI00001",
      "disk.raw",
    );
    const joined = join(work, `${mode.name}-joined`);
    execFileSync("sh", [
      "-c",
      `cat ${index.pieces.map((p) => `'${join(trees[p.disc - 1]!, p.media)}'`).join(" ")} > '${joined}'`,
    ]);
    const json = JSON.parse(await readFile(join(trees[0]!, "bootmedia/standalone/index.json"), "utf8"));
    const file = json.packages[0].files[0];
    expect(sha256(joined)).toBe(file.storedSha256);
    const plain = join(work, `${mode.name}-plain`);
    // The boot environment's way: each piece from the disc its C line names, decrypted while streaming.
    execFileSync("sh", [DECRYPT_SCRIPT, trees.join(":"), "OSI00001", "disk.raw", plain], { input: `${PW}\n` });
    expect(sha256(plain)).toBe(sha256(lib.image));
    if (mode.protected) expect(sha256(joined)).not.toBe(sha256(lib.image));
    else expect(sha256(joined)).toBe(sha256(lib.image));
  });

  it("inspect shows the set from disc 1, says what a data disc is, and --check rehashes the whole set", async () => {
    const shown = await bootmedia(["inspect", out(`${mode.name}-1.iso`), "--json"]);
    expect(shown.exitCode, shown.stderr).toBe(0);
    const standalone = JSON.parse(shown.stdout).standalone;
    expect(standalone.set).toEqual({ id: setId, discs: 3 });
    expect(standalone.packages[0].files[0]).toMatchObject({ path: "disk.raw", pieces: 3 });
    expect(standalone.packages[0].files[0].stored.map((s: { disc: number }) => s.disc)).toEqual([1, 2, 3]);
    const text = await bootmedia(["inspect", out(`${mode.name}-1.iso`)]);
    expect(text.stdout).toContain(`set ${setId}, disc 1 of 3`);
    expect(text.stdout).toMatch(/disk\.raw.*3 pieces: .*\.000 on disc 1, .*\.001 on disc 2, .*\.002 on disc 3/);
    const data = await bootmedia(["inspect", out(`${mode.name}-3.iso`)]);
    expect(data.exitCode, data.stderr).toBe(0);
    expect(data.stdout).toContain(`disc 3 of 3 of set ${setId}, a data disc (not bootable)`);
    const dataJson = JSON.parse((await bootmedia(["inspect", out(`${mode.name}-3.iso`), "--json"])).stdout);
    expect(dataJson.standaloneDisc).toMatchObject({ set: { id: setId, discs: 3 }, disc: 3 });
    for (const disc of [1, 3]) {
      const check = await bootmedia(["inspect", out(`${mode.name}-${disc}.iso`), "--check", "--json"]);
      expect(check.exitCode, check.stdout).toBe(0);
      const result = JSON.parse(check.stdout);
      expect(result.standalone).toEqual({ filesChecked: 1, bytesChecked: 16 * 2 ** 20 });
      expect(result.set).toEqual({ id: setId, discs: [1, 2, 3].map((n) => out(`${mode.name}-${n}.iso`)) });
    }
  });
});

describe("stand-alone CD/DVD sets read back", () => {
  it("inspect --check names a missing disc (BM6111) and a disc of another set (BM6112); a changed piece is BM6109", async () => {
    const dir = join(work, "siblings");
    await mkdir(dir);
    await copyFile(out("cdu-1.iso"), join(dir, "cdu-1.iso"));
    await copyFile(out("cdu-3.iso"), join(dir, "cdu-3.iso"));
    const missing = await bootmedia(["inspect", join(dir, "cdu-1.iso"), "--check"]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("BM6111");
    expect(missing.stderr).toContain("disc 2 of 3 of set");
    expect(missing.stderr).toContain("hint: Put every disc of the set in one folder");
    // Disc 2 of the protected set, named as disc 2 of the unprotected one.
    await copyFile(out("cdp-2.iso"), join(dir, "cdu-2.iso"));
    const foreign = await bootmedia(["inspect", join(dir, "cdu-3.iso"), "--check", "--json"]);
    expect(foreign.exitCode).toBe(1);
    const [d] = JSON.parse(foreign.stdout).diagnostics;
    expect(d).toMatchObject({ code: "BM6112", hint: expect.stringContaining("another set") });
    expect(d.message).toMatch(
      /cdu-2\.iso is not disc 2 of 3 of set [0-9a-f]{16}: it is disc 2 of 3 of set [0-9a-f]{16}/,
    );
    // The right disc 2, with one byte of its piece changed: the joined file no longer hashes to the index.
    const disc2 = join(dir, "cdu-2.iso");
    await copyFile(out("cdu-2.iso"), disc2);
    const fd = openSync(disc2, "r+");
    writeSync(fd, Buffer.from([0x55]), 0, 1, lbaOf(disc2, "/bootmedia/content/OSI00001/disk.raw.001") * 2048 + 1000);
    closeSync(fd);
    const changed = await bootmedia(["inspect", join(dir, "cdu-1.iso"), "--check"]);
    expect(changed.exitCode).toBe(1);
    expect(changed.stdout).toContain("BM6109");
  }, 120_000);

  it("plan shows each disc's pieces; diff compares two sets as single media (a data disc stands for its set)", async () => {
    const spec = await lib.spec("cdp", `{ type: iso, output: out/cdp.iso, capacity: ${CAPACITY} }`, MODES[0].security);
    const plan = await bootmedia(["plan", spec, "--json"], { env });
    expect(plan.exitCode, plan.stderr).toBe(0);
    const planned = JSON.parse(plan.stdout);
    expect(planned.volumes.map((v: { index: number }) => v.index)).toEqual([1, 2, 3]);
    const index = readContentIndex(
      await readFile(join(work, "cdp-1/bootmedia/standalone/content.txt"), "utf8"),
      "OSI00001",
      "disk.raw",
    );
    expect(planned.standalone.files).toEqual([
      {
        package: "OSI00001",
        file: "disk.raw.enc",
        size: 16 * 2 ** 20,
        pieces: index.pieces.map((p) => ({ path: p.media, size: p.size, disc: p.disc })),
      },
    ]);
    const text = await bootmedia(["plan", spec], { env });
    expect(text.stdout).toContain("OSI00001/disk.raw.enc  16777216 bytes in 3 pieces");
    expect(text.stdout).toMatch(/disc 3: bootmedia\/content\/OSI00001\/disk\.raw\.enc\.002/);
    const diff = await bootmedia(["diff", out("cdp-2.iso"), out("cdu-1.iso"), "--json"]);
    expect(diff.exitCode, diff.stderr).toBe(1);
    const d = JSON.parse(diff.stdout);
    expect(d.a.path).toBe(out("cdp-1.iso"));
    const standalone = d.differences.filter((x: { area: string }) => x.area === "standalone");
    expect(standalone).toEqual([expect.objectContaining({ item: "protection", a: "aes-256-ctr", b: "none" })]);
    const same = await bootmedia(["diff", out("cdu-1.iso"), out("cdu-2.iso")]);
    expect(same.exitCode, same.stdout).toBe(0);
  }, 120_000);

  it("carry disc.txt (disc 1 of 1) on one disc when the content fits, and on USB media", async () => {
    const r = await build("fits", "{ type: iso, output: out/fits.iso, capacity: dvd }", MODES[0].security);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(out("fits-1.iso"))).toBe(false);
    const label = join(work, "fits-disc.txt");
    execFileSync(
      "xorriso",
      ["-osirrox", "on", "-indev", out("fits.iso"), "-extract", "/bootmedia/standalone/disc.txt", label],
      {
        stdio: "pipe",
      },
    );
    expect(await readFile(label, "utf8")).toMatch(/^bootmedia-disc\t1\t[0-9a-f]{16}\t1\t1\n$/);
    const u = await build("usb1", "{ type: usb, output: out/usb1.img }", MODES[0].security);
    expect(u.exitCode, u.stderr).toBe(0);
    const shown = JSON.parse((await bootmedia(["inspect", out("usb1.img"), "--json"])).stdout);
    expect(shown.standalone.set.discs).toBe(1);
    expect(shown.files.map((f: { path: string }) => f.path.replace(/^\/+/, ""))).toContain(
      "bootmedia/standalone/disc.txt",
    );
  }, 120_000);
});

describe("stand-alone CD/DVD sets refused", () => {
  it("refuse a disc 1 too small for the boot files (BM6105) and a set of more than 99 discs (BM6106), nothing written", async () => {
    const small = await build("tiny", "{ type: iso, output: out/tiny.iso, capacity: 1000000 }", MODES[0].security);
    expect(small.exitCode).toBe(1);
    expect(small.stderr).toContain("BM6105");
    const big = await bigPackageLibrary(100 * 2 ** 30);
    try {
      const spec = await big.spec("many", "{ type: iso, output: out/many.iso, capacity: cd700 }", MODES[0].security);
      const r = await bootmedia(["build", spec, "--cache-dir", join(big.dir, "cache")], { env });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("BM6106");
      expect(r.stderr).toContain("more than 99 discs");
      expect(existsSync(join(big.dir, "out")) ? await readdir(join(big.dir, "out")) : []).not.toContainEqual(
        expect.stringMatching(/\.iso$/),
      );
    } finally {
      await rm(big.dir, { recursive: true, force: true });
    }
    // A refused build leaves its log (tiny.iso.failed.bootmedia.log), never an image.
    const written = (await readdir(join(lib.dir, "out"))).filter((f) => f.startsWith("tiny") && f.endsWith(".iso"));
    expect(written).toEqual([]);
  }, 120_000);
});
