/**
 * Puts the built image into the content library. The os-image package type and its
 * `addOsImage` belong to backends/library-admin/os-image.ts (deploy contract §1); until that
 * is merged this writes the same package shape itself: `packages/<ID>/package.json` with an
 * `osImage` section, and `files/<name>.raw.zst`. Swap the body for `addOsImage(...)` at merge;
 * callers only see this function.
 */
import { copyFile, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Arch } from "../../core/compat.ts";
import { sha256File } from "../../core/content/manifest.ts";
import type { DiskPlan } from "./disk.ts";

export interface OsImageInfo {
  arch: Arch;
  firmware: Array<"bios" | "uefi">;
  secureBoot: boolean;
  image: string;
  compression: "zstd";
  size: number;
  sha256: string;
  partitionTable: "gpt";
  partitions: Array<{ index: number; start: number; size: number; type: string; name: string }>;
  rootPartition: number;
}

export interface OsImageManifest {
  id: string;
  type: "os-image";
  name: string;
  version: string;
  osImage: OsImageInfo;
  files: Array<{ path: string; size: number; sha256: string }>;
  /** The build's inputs (os-image build only): recipe, suites, every .deb. */
  build: unknown;
}

interface AddOptions {
  library: string;
  id: string;
  name: string;
  version: string;
  arch: Arch;
  secureBoot: boolean;
  /** The compressed image; its name becomes the media path. */
  compressed: string;
  rawSize: number;
  rawSha256: string;
  plan: DiskPlan;
  build: unknown;
}

/** Writes the package (built beside its place, renamed in); returns its manifest. */
export async function addBuiltOsImage(o: AddOptions): Promise<OsImageManifest> {
  const finalDir = join(o.library, "packages", o.id);
  const tmpDir = `${finalDir}.tmp`;
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(join(tmpDir, "files"), { recursive: true });
  const name = basename(o.compressed);
  const dest = join(tmpDir, "files", name);
  await copyFile(o.compressed, dest);
  const manifest: OsImageManifest = {
    id: o.id,
    type: "os-image",
    name: o.name,
    version: o.version,
    osImage: {
      arch: o.arch,
      firmware: ["bios", "uefi"],
      secureBoot: o.secureBoot,
      image: name,
      compression: "zstd",
      size: o.rawSize,
      sha256: o.rawSha256,
      partitionTable: "gpt",
      partitions: o.plan.partitions.map(({ index, start, size, type, name: n }) => ({
        index,
        start,
        size,
        type,
        name: n,
      })),
      rootPartition: o.plan.rootPartition,
    },
    files: [{ path: name, size: (await stat(dest)).size, sha256: await sha256File(dest) }],
    build: o.build,
  };
  await writeFile(join(tmpDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(finalDir, { recursive: true, force: true });
  await rename(tmpDir, finalDir);
  return manifest;
}
