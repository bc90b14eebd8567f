/**
 * `bootmedia library add-os-image | ls | verify` through the real CLI: a zstd image made by
 * sgdisk + mkfs.ext4 + zstd, its manifest against sfdisk -J and sha256sum; every refusal
 * exit 1 with its code and a hint on stderr; a 1 GiB image added with a flat memory peak
 * (GNU time's maximum resident set size), so the image is streamed, never held.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blankFile, compressWith, debianLikeDisk, gptDisk } from "../../backends/library-admin/testing/disk-images.ts";
import { BIN, bootmedia } from "../../testing/cli.ts";

const MiB = 1024 * 1024;
let dir: string;
let lib: string;
let zst: string;
const sha256sum = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bm-library-os-image-"));
  lib = join(dir, "lib");
  zst = compressWith("zstd", debianLikeDisk(join(dir, "debian.img")));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bootmedia library add-os-image", () => {
  it("adds a zstd image; ls shows it; verify decompresses it (oracles: sfdisk -J, sha256sum)", async () => {
    const r = await bootmedia([
      "library",
      "add-os-image",
      lib,
      "--image",
      zst,
      "--arch",
      "x64",
      "--secure-boot",
      "--name",
      "Debian 12",
      "--package-version",
      "12.8",
      "--pass-serial",
      "login:",
      "--memory",
      "512",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("added OSI00001 (os-image, x64)");
    expect(r.stdout).toContain("boots bios, uefi (Secure Boot chain); gpt, root partition 3");
    const m = JSON.parse(readFileSync(join(lib, "packages/OSI00001/package.json"), "utf8"));
    expect([m.name, m.version, m.osImage.secureBoot, m.osImage.testbed]).toEqual([
      "Debian 12",
      "12.8",
      true,
      { pass: { serial: "login:" }, memoryMiB: 512 },
    ]);
    expect(m.files[0].sha256).toBe(sha256sum(zst));
    expect(m.osImage.sha256).toBe(sha256sum(join(dir, "debian.img")));
    const oracle = JSON.parse(execFileSync("sfdisk", ["-J", join(dir, "debian.img")], { encoding: "utf8" }));
    expect(m.osImage.partitions.map((p: { start: number }) => p.start / 512)).toEqual(
      oracle.partitiontable.partitions.map((p: { start: number }) => p.start),
    );
    const ls = await bootmedia(["library", "ls", lib]);
    expect(ls.stdout).toMatch(
      /OSI00001\s+os-image\s+x64\s+1 files.*Debian 12 {2}\[bios\+uefi, secure boot, zstd, 64 MiB on disk\]/,
    );
    const json = JSON.parse((await bootmedia(["library", "ls", lib, "--json"])).stdout);
    expect(json.packages[0].osImage).toEqual({
      firmware: ["bios", "uefi"],
      secureBoot: true,
      compression: "zstd",
      size: 64 * MiB,
      partitionTable: "gpt",
    });
    const v = await bootmedia(["library", "verify", lib]);
    expect(v.exitCode, v.stdout).toBe(0);
    expect(v.stdout).toContain("1 packages, 1 files checked: all match their manifests");
  });

  it("--json prints the manifest written", async () => {
    const r = await bootmedia([
      "library",
      "add-os-image",
      lib,
      "--image",
      zst,
      "--arch",
      "x64",
      "--json",
      "--id",
      "J1",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.manifest).toEqual(JSON.parse(readFileSync(join(lib, "packages/J1/package.json"), "utf8")));
  });

  it.each([
    ["an unknown arch", () => ["--image", zst, "--arch", "arm64"], "BM2301", "not an OS image architecture"],
    [
      "no partition table",
      () => ["--image", blankFile(join(dir, "z.img"), 4 * MiB), "--arch", "x64"],
      "BM4205",
      "no partition table",
    ],
    [
      "a table larger than the image",
      () => {
        const small = gptDisk(join(dir, "small.img"), 8 * MiB, ["1:2048:0:8304"]);
        execFileSync("truncate", ["-s", String(4 * MiB), small]);
        return ["--image", small, "--arch", "x64", "--firmware", "uefi"];
      },
      "BM4221",
      "past the image's last sector",
    ],
    [
      "no Linux root",
      () => [
        "--image",
        gptDisk(join(dir, "win.img"), 8 * MiB, ["1:2048:0:0700"]),
        "--arch",
        "x64",
        "--firmware",
        "uefi",
      ],
      "BM2308",
      "--root-partition N",
    ],
    ["a bad --firmware", () => ["--image", zst, "--arch", "x64", "--firmware", "efi"], "BM2312", "--firmware efi"],
  ])("%s: exit 1, the code and a hint", async (_what, args, code, message) => {
    const before = readdirSync(join(lib, "packages"));
    const r = await bootmedia(["library", "add-os-image", lib, ...args()]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error ${code}`);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/hint: /);
    expect(readdirSync(join(lib, "packages"))).toEqual(before);
  });

  it("without --image it is a usage error", async () => {
    const r = await bootmedia(["library", "add-os-image", lib, "--arch", "x64"]);
    expect(r.stderr).toContain("error BM1009");
    expect(r.exitCode).not.toBe(0);
  });

  it("a 1 GiB image streams: peak memory stays far below its size (GNU time)", async () => {
    const big = gptDisk(join(dir, "big.img"), 1024 * MiB, ["1:2048:+8M:ef00", "2:0:0:8304"]);
    const bigZst = compressWith("zstd", big);
    rmSync(big);
    const r = await execa(
      "/usr/bin/time",
      [
        "-f",
        "maxrss=%M",
        "node",
        BIN,
        "library",
        "add-os-image",
        join(dir, "big-lib"),
        "--image",
        bigZst,
        "--arch",
        "x64",
        "--json",
      ],
      { reject: false, env: { NO_COLOR: "1" } },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).manifest.osImage.size).toBe(1024 * MiB);
    const kib = Number(/maxrss=(\d+)/.exec(r.stderr)![1]);
    expect(kib).toBeLessThan(250 * 1024);
  }, 120_000);
});
