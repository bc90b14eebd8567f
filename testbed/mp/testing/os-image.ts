/**
 * A small real OS image for the disk steps' tests: a GPT disk (BIOS boot, ESP, ext4 root with
 * the x64 root type) made by sgdisk and mkfs.ext4, compressed by zstd, and the os-image package
 * holding it (the manifest's osImage section as the deploy contract §1 writes it).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, copyFileSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestOsImage {
  /** The uncompressed disk image. */
  raw: string;
  /** The stored (zstd) file. */
  stored: string;
  size: number;
  sha256: string;
  /** The root partition (3): byte offset and length. */
  root: { start: number; size: number };
}

const X64_ROOT = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
/**
 * The sha256 of a file's bytes `start`..`end` (the whole file by default), read 4 MiB at a
 * time: test images reach 2 GiB, beyond one Buffer.
 */
export function sha256OfFile(path: string, start = 0, end = statSync(path).size): string {
  const hash = createHash("sha256");
  const buf = Buffer.alloc(4 << 20);
  const fd = openSync(path, "r");
  try {
    for (let at = start; at < end; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at);
      if (n <= 0) throw new Error(`${path}: short read at ${at}`);
      hash.update(buf.subarray(0, n));
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** Bytes no compressor shrinks, the same on every run: SHA-256 in counter mode. */
function noise(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0, at = 0; at < bytes; i++, at += 32)
    createHash("sha256").update(`bootmedia test noise ${i}`).digest().copy(out, at);
  return out;
}

/**
 * Makes `disk.raw` (sizeMiB) and `disk.raw.zst` in `dir`; the root holds /etc/hostname and
 * /etc/hosts, and with `noiseMiB` a file of that many incompressible MiB (/var/noise), so the
 * stored image is that large too (the image of zeros compresses to a few KiB).
 */
export function makeTestOsImage(dir: string, sizeMiB = 64, opts: { noiseMiB?: number } = {}): TestOsImage {
  mkdirSync(join(dir, "rootfs/etc"), { recursive: true });
  writeFileSync(join(dir, "rootfs/etc/hostname"), "template\n");
  writeFileSync(join(dir, "rootfs/etc/hosts"), "127.0.0.1\tlocalhost\n127.0.1.1\ttemplate\n::1\tlocalhost\n");
  if (opts.noiseMiB) {
    mkdirSync(join(dir, "rootfs/var"), { recursive: true });
    writeFileSync(join(dir, "rootfs/var/noise"), noise(opts.noiseMiB * 1048576));
  }
  const raw = join(dir, "disk.raw");
  execFileSync("truncate", ["-s", `${sizeMiB}M`, raw]);
  execFileSync(
    "sgdisk",
    [
      "-n",
      "1:2048:+1M",
      "-t",
      "1:EF02",
      "-c",
      "1:bios",
      "-n",
      "2:0:+8M",
      "-t",
      "2:EF00",
      "-c",
      "2:esp",
      "-n",
      "3:0:0",
      "-t",
      `3:${X64_ROOT}`,
      "-c",
      "3:root",
      raw,
    ],
    { stdio: "pipe" },
  );
  const table = JSON.parse(execFileSync("sfdisk", ["-J", raw], { encoding: "utf8" })) as {
    partitiontable: { partitions: Array<{ start: number; size: number }> };
  };
  const p3 = table.partitiontable.partitions[2]!;
  const root = { start: p3.start * 512, size: p3.size * 512 };
  const rootImg = join(dir, "root.ext4");
  execFileSync("truncate", ["-s", String(root.size), rootImg]);
  execFileSync("mkfs.ext4", ["-q", "-F", "-L", "root", "-d", join(dir, "rootfs"), "-E", "root_owner=0:0", rootImg], {
    stdio: "pipe",
    env: { ...process.env, E2FSPROGS_FAKE_TIME: "1800000000" },
  });
  execFileSync(
    "dd",
    [`if=${rootImg}`, `of=${raw}`, "bs=1M", `seek=${root.start}`, "oflag=seek_bytes", "conv=notrunc"],
    {
      stdio: "pipe",
    },
  );
  const stored = `${raw}.zst`;
  execFileSync("zstd", ["-q", "-f", raw, "-o", stored]);
  return { raw, stored, size: sizeMiB * 1048576, sha256: sha256OfFile(raw), root };
}

const STORED = { zstd: "disk.raw.zst", xz: "disk.raw.xz", gzip: "disk.raw.gz", none: "disk.raw" } as const;

/** The os-image package `id` in `library` holding the image, stored zstd (as made) or recompressed. */
export function addTestOsImagePackage(
  library: string,
  id: string,
  image: TestOsImage,
  compression: keyof typeof STORED = "zstd",
): void {
  const dir = join(library, "packages", id);
  const name = STORED[compression];
  const file = join(dir, "files", name);
  mkdirSync(join(dir, "files"), { recursive: true });
  if (compression === "zstd") copyFileSync(image.stored, file);
  else if (compression === "none") copyFileSync(image.raw, file);
  else {
    const out = openSync(file, "w");
    try {
      execFileSync(compression, ["-c", image.raw], { stdio: ["ignore", out, "pipe"] });
    } finally {
      closeSync(out);
    }
  }
  // The partitions as sfdisk reads them (the manifest must list them: core/content/manifest.ts).
  const table = JSON.parse(execFileSync("sfdisk", ["-J", image.raw], { encoding: "utf8" })) as {
    partitiontable: { partitions: Array<{ start: number; size: number; type: string; name?: string }> };
  };
  const partitions = table.partitiontable.partitions.map((p, i) => ({
    index: i + 1,
    start: p.start * 512,
    size: p.size * 512,
    type: p.type.toLowerCase(),
    ...(p.name ? { name: p.name } : {}),
  }));
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify(
      {
        id,
        type: "os-image",
        name: "Test disk",
        version: "1",
        osImage: {
          arch: "x64",
          firmware: ["bios", "uefi"],
          secureBoot: false,
          image: name,
          compression,
          size: image.size,
          sha256: image.sha256,
          partitionTable: "gpt",
          partitions,
          rootPartition: 3,
        },
        files: [{ path: name, size: statSync(file).size, sha256: sha256OfFile(file) }],
      },
      null,
      2,
    )}\n`,
  );
}
