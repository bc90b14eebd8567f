/**
 * The deploy bench's images: os-image build's Debian 12 (x64, from the cache's library, built
 * there first when missing: ~6 min cold) as the package it is (zstd) and recompressed with xz,
 * plus its raw bytes for the in-guest floor. The xz file and the raw copy are kept in
 * `<cache>/bench-deploy/<sha256 of the stored file>/`, so a second run makes nothing.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  copyFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { buildOsImage } from "../../backends/os-image-builder/build-os-image.ts";
import { DEFAULT_IDS } from "../../backends/os-image-builder/config.ts";
import { sha256File } from "../../core/content/manifest.ts";

const cache = () => process.env.BOOTMEDIA_CACHE ?? join(homedir(), ".cache/bootmedia");

interface Manifest {
  id: string;
  osImage: { image: string; compression: string; size: number; sha256: string } & Record<string, unknown>;
  files: Array<{ path: string; size: number; sha256: string }>;
  [k: string]: unknown;
}

export interface BenchImage {
  /** Uncompressed bytes (a sparse file). */
  raw: string;
  size: number;
  /** Package ids in the bench library, by compression. */
  packages: { zstd: string; xz: string };
  /** Stored files. */
  stored: { zstd: string; xz: string };
}

/** A file into the library: a hard link (same filesystem) or a copy. */
function place(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** Debian's package (zstd) and an xz twin in `library`; the raw bytes beside the cache's xz. */
export async function debianBenchImage(library: string, log: (l: string) => void): Promise<BenchImage> {
  const source = join(cache(), "os-image-e2e-library");
  const id = DEFAULT_IDS.x64;
  // A package already in the cache's library is used as it is (a build would wait for the lock
  // of any other build running); a missing one is built.
  if (!existsSync(join(source, "packages", id, "package.json")))
    await buildOsImage({
      distro: "debian-12",
      arch: "x64",
      library: source,
      workDir: join(cache(), "os-image-build"),
      log,
    });
  const manifest = JSON.parse(readFileSync(join(source, "packages", id, "package.json"), "utf8")) as Manifest;
  const zst = join(source, "packages", id, "files", manifest.osImage.image);
  const storedSha = manifest.files[0]!.sha256;
  const work = join(cache(), "bench-deploy", storedSha.slice(0, 16));
  mkdirSync(work, { recursive: true });
  const raw = join(work, "image.raw");
  if (!existsSync(raw)) {
    log("bench: decompressing the image (raw bytes for the floor)");
    execFileSync("zstd", ["-q", "-d", "-f", "--sparse", zst, "-o", `${raw}.tmp`]);
    renameSync(`${raw}.tmp`, raw);
  }
  const xz = join(work, `${manifest.osImage.image.replace(/\.zst$/, "")}.xz`);
  if (!existsSync(xz)) {
    log("bench: recompressing the image with xz -6 (once; a minute or two)");
    execFileSync("sh", ["-c", `xz -6 -T2 -c "$1" > "$2.tmp" && mv "$2.tmp" "$2"`, "sh", raw, xz]);
  }
  // The bench library: the package as built, and its xz twin (same image, other stored file).
  const ids = { zstd: id, xz: `${id}X` };
  for (const [comp, pkg, file] of [
    ["zstd", ids.zstd, zst],
    ["xz", ids.xz, xz],
  ] as const) {
    const dir = join(library, "packages", pkg);
    mkdirSync(join(dir, "files"), { recursive: true });
    const name = file.slice(file.lastIndexOf("/") + 1);
    if (!existsSync(join(dir, "files", name))) place(file, join(dir, "files", name));
    const files =
      comp === "zstd" ? manifest.files : [{ path: name, size: statSync(xz).size, sha256: await sha256File(xz) }];
    writeFileSync(
      join(dir, "package.json"),
      `${JSON.stringify({ ...manifest, id: pkg, osImage: { ...manifest.osImage, image: name, compression: comp }, files }, null, 2)}\n`,
    );
  }
  return {
    raw,
    size: manifest.osImage.size,
    packages: ids,
    stored: {
      zstd: join(library, "packages", ids.zstd, "files", manifest.osImage.image),
      xz: join(library, "packages", ids.xz, "files", xz.slice(xz.lastIndexOf("/") + 1)),
    },
  };
}
