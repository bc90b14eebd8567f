/**
 * A 5 GiB package on stand-alone FAT32 USB media (sparse test data, with distinct bytes
 * around each piece boundary so pieces joined in the wrong order hash differently):
 * fsck.fat -n clean, no file of 4 GiB or more (mdir), the pieces read back by mtools and
 * joined hash to the original's sha256; `inspect` shows one file, `inspect --check`
 * rehashes the joined bytes. About 10 GiB of transient disk (content cache and image) and 3
 * minutes: an end-to-end file, so the quick suite (and CI's Node 24 run) leaves it out.
 */
import { execFileSync, execSync } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../../testing/cli.ts";
import { testLibrary, type TestLibrary } from "./testing/library.ts";

const SIZE = 5 * 2 ** 30;
const PIECE = 4095 * 2 ** 20;
const MTOOLS = { ...process.env, MTOOLS_SKIP_CHECK: "1" };
let lib: TestLibrary;
let bigSha: string;

beforeAll(async () => {
  lib = await testLibrary(`steps:
  - { name: Apply the image, type: apply-image, package: OSI00001 }
  - { name: Copy the big file, type: run-command, command: "true", package: BIG00001 }
`);
  const files = join(lib.library, "packages/BIG00001/files");
  await mkdir(files, { recursive: true });
  const big = join(files, "big.bin");
  execFileSync("truncate", ["-s", String(SIZE), big]);
  const fd = openSync(big, "r+");
  for (const [at, text] of [
    [0, "first bytes"],
    [PIECE - 16, "end of piece 0 "],
    [PIECE, "start of piece 1"],
    [SIZE - 16, "the last bytes!!"],
  ] as const)
    writeSync(fd, Buffer.from(text), 0, undefined, at);
  closeSync(fd);
  bigSha = execFileSync("sha256sum", [big], { encoding: "utf8" }).split(" ")[0]!;
  await writeFile(
    join(lib.library, "packages/BIG00001/package.json"),
    JSON.stringify({
      id: "BIG00001",
      type: "prestart",
      name: "A 5 GiB package",
      version: "1",
      files: [{ path: "big.bin", size: SIZE, sha256: bigSha }],
    }),
  );
}, 300_000);
afterAll(async () => {
  if (lib) await rm(lib.dir, { recursive: true, force: true });
});

describe("a 5 GiB package on stand-alone USB media", () => {
  it("is stored as pieces under 4 GiB that fsck.fat, mdir and mcopy accept and that join to the original", async () => {
    const spec = await lib.spec("big", "{ type: usb, output: out/big.img }", "security: { allowUnprotected: true }\n");
    const img = join(lib.dir, "out/big.img");
    const r = await bootmedia(["build", spec, "--cache-dir", join(lib.dir, "cache"), "--quiet"]);
    expect(r.exitCode, r.stderr).toBe(0);
    // The content cache holds a second 5 GiB copy: gone before the checks read the image.
    await rm(join(lib.dir, "cache"), { recursive: true, force: true });
    const part = `${img}@@${2 ** 20}`;
    const listing = execFileSync("mdir", ["-/", "-a", "-i", part, "::/bootmedia/content"], {
      encoding: "utf8",
      env: MTOOLS,
    });
    const sizes = [...listing.matchAll(/\s(\d{6,})\s/g)].map((m) => Number(m[1]));
    expect(sizes).toEqual(expect.arrayContaining([PIECE, SIZE - PIECE]));
    expect(sizes.every((n) => n < 2 ** 32)).toBe(true);
    expect(listing).toMatch(/big\.bin\.000/);
    expect(listing).toMatch(/big\.bin\.001/);
    // fsck.fat reads a volume, not a disk: the partition, copied sparse.
    const vol = join(lib.dir, "part.img");
    execFileSync("dd", [
      `if=${img}`,
      `of=${vol}`,
      "bs=4M",
      "skip=1M",
      "iflag=skip_bytes",
      "conv=sparse",
      "status=none",
    ]);
    const fsck = execFileSync("fsck.fat", ["-n", vol], { encoding: "utf8" });
    expect(fsck).not.toMatch(/differ|Free cluster summary wrong|Reclaimed|Dirty bit|Orphan/i);
    await rm(vol);
    const joined = execSync(
      `{ mcopy -n -i '${part}' ::/bootmedia/content/BIG00001/big.bin.000 - && mcopy -n -i '${part}' ::/bootmedia/content/BIG00001/big.bin.001 - ; } | sha256sum`,
      { encoding: "utf8", env: MTOOLS, shell: "/bin/sh" },
    ).split(" ")[0];
    expect(joined).toBe(bigSha);
    // bootmedia's own reader: one file of 5 GiB, and --check rehashes the joined bytes.
    const inspected = await bootmedia(["inspect", img, "--json"]);
    expect(inspected.exitCode, inspected.stderr).toBe(0);
    const standalone = JSON.parse(inspected.stdout).standalone;
    expect(standalone.packages.find((p: { id: string }) => p.id === "BIG00001").files).toEqual([
      expect.objectContaining({ path: "big.bin", size: SIZE, pieces: 2 }),
    ]);
    const check = await bootmedia(["inspect", img, "--check", "--json"]);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(JSON.parse(check.stdout).standalone).toMatchObject({ filesChecked: 2, bytesChecked: SIZE + 16 * 2 ** 20 });
  }, 1_200_000);
});
