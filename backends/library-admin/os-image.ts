/**
 * `library add-os-image`: a whole-disk image (raw, or zstd/xz/gzip) as an os-image package
 * (docs/content-library.md, "OS images"). The image is read once — copied into the package,
 * hashed, decompressed as a stream — and its partition table read from the first MiB; the
 * package folder is built beside its place and renamed in, so an error leaves nothing behind.
 * The user's file is only ever read.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { copyFile, mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { ARCHES, FIRMWARES, type Arch, type Firmware } from "../../core/compat.ts";
import { parseManifest } from "../../core/content/manifest.ts";
import {
  OS_IMAGE_SUFFIX,
  type BootImageTestbed,
  type ContentPackage,
  type OsImageInfo,
  type OsImagePartition,
} from "../../core/types.ts";
import { GPT_TYPES, MBR_TYPES, readPartitionTable, type PartitionTable } from "../../formats/disk/partitions.ts";
import { detectCompression, scanImage } from "./image-scan.ts";
import { assertFile, chooseId } from "./library-admin.ts";
import "./codes.ts";

interface OsImageImport {
  image: string;
  arch: string;
  /** What it boots; detected from the table when absent. */
  firmware?: readonly string[];
  secureBoot?: boolean;
  /** The partition write-files mounts, when the table does not say (no Linux root type). */
  rootPartition?: number;
  id?: string;
  name?: string;
  version?: string;
  testbed?: BootImageTestbed;
  /**
   * More top-level manifest keys written with the package (the image builder's record of its
   * inputs, e.g. `build`); the manifest's own keys cannot be replaced.
   */
  manifestExtras?: Record<string, unknown>;
  /**
   * The image is the caller's own temporary (the image builder's output): moved into the
   * package instead of copied, when on the same file system. Never for a user's file.
   */
  moveImage?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

const OWN_KEYS = ["id", "type", "name", "version", "osImage", "bootImage", "files"];

/** The Linux root type of each arch (Discoverable Partitions Specification). */
const ROOT_TYPE = { x86: GPT_TYPES.LINUX_ROOT_X86, x64: GPT_TYPES.LINUX_ROOT_X64 } as const satisfies Record<
  Arch,
  string
>;
const LINUX_DATA_TYPES: readonly string[] = [GPT_TYPES.LINUX_FILESYSTEM, MBR_TYPES.LINUX];
const MiB = 1024 * 1024;

const optionError = (message: string) => new BootmediaError("BM2312", message);

function checkArch(arch: string): Arch {
  if (!(ARCHES as readonly string[]).includes(arch))
    throw new BootmediaError("BM2301", `--arch ${arch} is not an OS image architecture (expected x86 or x64)`, {
      where: arch,
      hint: "Give --arch x64 for a 64-bit OS image, --arch x86 for a 32-bit one.",
    });
  return arch as Arch;
}

function checkFirmware(given: readonly string[] | undefined): Firmware[] | undefined {
  if (given === undefined) return undefined;
  const bad = given.find((f) => !(FIRMWARES as readonly string[]).includes(f));
  if (bad !== undefined || given.length === 0)
    throw optionError(`--firmware ${given.join(",")}: expected bios, uefi or bios,uefi`);
  return FIRMWARES.filter((f) => given.includes(f));
}

/** What the table shows the image boots: an ESP for UEFI; a BIOS-boot partition or MBR boot code for BIOS. */
function detectFirmware(table: PartitionTable): Firmware[] {
  const types = table.partitions.map((p) => p.type);
  const uefi = types.includes(GPT_TYPES.EFI_SYSTEM) || types.includes(MBR_TYPES.EFI_SYSTEM);
  const bios = types.includes(GPT_TYPES.BIOS_BOOT) || table.mbrBootCode;
  return FIRMWARES.filter((f) => (f === "uefi" ? uefi : bios));
}

/**
 * The partition write-files mounts: the one given; else the first with the arch's Linux root
 * type; else the largest Linux file system. A root type of the other arch is a wrong --arch.
 */
function findRootPartition(table: PartitionTable, arch: Arch, given: number | undefined, where: string): number {
  const parts = table.partitions;
  if (given !== undefined) {
    if (!parts.some((p) => p.index === given))
      throw new BootmediaError(
        "BM2308",
        `--root-partition ${given}: there is no partition ${given} (the image has ${parts.map((p) => p.index).join(", ")})`,
        { where },
      );
    return given;
  }
  const other = parts.find((p) => p.type === ROOT_TYPE[arch === "x64" ? "x86" : "x64"]);
  const own = parts.find((p) => p.type === ROOT_TYPE[arch]);
  if (other && !own)
    throw new BootmediaError(
      "BM2310",
      `partition ${other.index} is a Linux root of type ${arch === "x64" ? "x86" : "x64"}, but --arch ${arch} was given`,
      { where },
    );
  if (own) return own.index;
  const data = parts
    .filter((p) => LINUX_DATA_TYPES.includes(p.type))
    .sort((a, b) => b.size - a.size || a.index - b.index);
  if (data[0]) return data[0].index;
  throw new BootmediaError(
    "BM2308",
    `no Linux root partition (types: ${parts.map((p) => `${p.index}=${p.type}`).join(", ")}): give --root-partition N`,
    { where },
  );
}

/** The file name in the package: the image's stem (suffixes dropped, unsafe characters replaced) + `.raw[.zst|.xz|.gz]`. */
function mediaName(image: string, suffix: string): string {
  const stem =
    basename(image)
      .replace(/\.(zst|zstd|xz|gz)$/i, "")
      .replace(/\.(raw|img|bin)$/i, "")
      .replace(/[^A-Za-z0-9._-]/g, "-")
      .replace(/^[.-]+/, "") || "image";
  return `${stem}${suffix}`;
}

const tablePartitions = (table: PartitionTable): OsImagePartition[] =>
  table.partitions.map((p) => ({
    index: p.index,
    start: p.start,
    size: p.size,
    type: p.type,
    ...(p.name !== undefined ? { name: p.name } : {}),
  }));

/** Adds a whole-disk image to the library as an os-image package; returns its manifest. */
export async function addOsImage(library: string, input: OsImageImport): Promise<ContentPackage> {
  const log = input.log ?? (() => {});
  const arch = checkArch(input.arch);
  const givenFirmware = checkFirmware(input.firmware);
  if (input.rootPartition !== undefined && !(Number.isInteger(input.rootPartition) && input.rootPartition >= 1))
    throw optionError(`--root-partition ${input.rootPartition} is not a partition number`);
  if (input.secureBoot && givenFirmware && !givenFirmware.includes("uefi"))
    throw optionError("--secure-boot needs uefi among --firmware");
  const clash = Object.keys(input.manifestExtras ?? {}).find((k) => OWN_KEYS.includes(k));
  if (clash !== undefined) throw optionError(`the manifest key ${clash} is written by add-os-image itself`);
  const image = await assertFile(input.image, "the image");
  const compression = await detectCompression(image);
  const id = await chooseId(library, input.id, "OSI000");
  const name = mediaName(image, OS_IMAGE_SUFFIX[compression]);
  const packages = join(library, "packages");
  await mkdir(packages, { recursive: true });
  const tmp = join(packages, `${id}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  let movedFrom: string | undefined;
  try {
    await mkdir(join(tmp, "files"), { recursive: true });
    log(`reading ${input.image} (${compression === "none" ? "raw" : compression})`);
    const started = Date.now();
    const scan = await scanImage(image, compression, {
      where: input.image,
      ...(input.moveImage ? {} : { copyTo: join(tmp, "files", name) }),
      // Fail fast on a missing or damaged table (its fit to the size is checked at the end).
      onHead: (head) => void readPartitionTable(head, Number.MAX_SAFE_INTEGER, input.image),
    });
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    log(
      `${(scan.storedBytes / MiB).toFixed(1)} MiB stored, ${(scan.size / MiB).toFixed(1)} MiB uncompressed (${(scan.size / MiB / seconds).toFixed(0)} MiB/s)`,
    );
    if (scan.size === 0 || scan.size % 512 !== 0)
      throw new BootmediaError("BM2309", `${scan.size} uncompressed bytes: not a whole number of 512-byte sectors`, {
        where: input.image,
      });
    const table = readPartitionTable(scan.head, scan.size, input.image);
    const rootPartition = findRootPartition(table, arch, input.rootPartition, input.image);
    const detected = detectFirmware(table);
    const firmware = givenFirmware ?? detected;
    const unseen = firmware.filter((f) => !detected.includes(f));
    if (unseen.length > 0)
      log(
        `note: --firmware ${unseen.join(",")} although the table shows no ${unseen.map((f) => (f === "uefi" ? "EFI System Partition" : "BIOS-boot partition or MBR boot code")).join(" and no ")}`,
      );
    if (firmware.length === 0)
      throw new BootmediaError("BM2314", "its partition table shows no boot path", { where: input.image });
    if (input.secureBoot && !firmware.includes("uefi"))
      throw optionError(`--secure-boot: ${input.image} does not boot with UEFI (no EFI System Partition)`);
    const osImage: OsImageInfo = {
      arch,
      firmware,
      secureBoot: input.secureBoot === true,
      image: name,
      compression,
      size: scan.size,
      sha256: scan.sha256,
      partitionTable: table.kind,
      partitions: tablePartitions(table),
      rootPartition,
      ...(input.testbed ? { testbed: input.testbed } : {}),
    };
    const manifest = parseManifest(
      {
        id,
        type: "os-image",
        name: input.name ?? `${basename(image)} (${arch}, imported)`,
        version: input.version ?? scan.sha256.slice(0, 12),
        osImage,
        files: [{ path: name, size: scan.storedBytes, sha256: scan.storedSha256 }],
        ...input.manifestExtras,
      },
      `package ${id}`,
    );
    if (input.moveImage) {
      await moveInto(image, join(tmp, "files", name));
      movedFrom = image;
    }
    await writeSynced(join(tmp, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(tmp, join(packages, id)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOTEMPTY" || e.code === "EEXIST")
        throw new BootmediaError("BM2303", `the library ${library} already has a package ${id}`, {
          where: join(packages, id),
        });
      throw e;
    });
    log(
      `added ${id}: ${table.kind}, ${table.partitions.length} partitions, root ${rootPartition}, ${firmware.join("+")}`,
    );
    return manifest;
  } catch (e) {
    // A moved image goes back where it was: a failed add leaves the caller's file too.
    if (movedFrom) await rename(join(tmp, "files", name), movedFrom).catch(() => {});
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Renames the file in; across file systems, copies it (the source then stays). */
async function moveInto(src: string, dest: string): Promise<void> {
  try {
    await rename(src, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
    await copyFile(src, dest, constants.COPYFILE_EXCL);
  }
}

async function writeSynced(path: string, text: string): Promise<void> {
  await writeFile(path, text);
  const fh = await open(path, "r+");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
