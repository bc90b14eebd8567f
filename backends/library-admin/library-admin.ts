/**
 * Editing a content library folder (`bootmedia library ...`): import a third-party kernel
 * (and initrd) as a boot-image package, add a prestart or task-sequence folder, list the
 * packages, and verify every file against its manifest. Manifests are always written here,
 * never by hand: sizes and sha256 from the bytes copied.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import fg from "fast-glob";
import { BootmediaError, type ErrorCode } from "../../base/errors.ts";
import { ARCHES, type Arch } from "../../core/compat.ts";
import { parseManifest, sha256File } from "../../core/content/manifest.ts";
import { PACKAGE_TYPES, type BootImageTestbed, type ContentPackage, type PackageType } from "../../core/types.ts";
import { checkKernelFile } from "../../plugins/boot-image/kernel-check.ts";
import { writeContentPackage } from "../boot-image-builder/package.ts";
import { loadPackageSteps, loadSteps, STEPS_FILE } from "../../core/task-sequence/load.ts";
import { verifyOsImage } from "./os-image-verify.ts";
import "./codes.ts";

const PACKAGE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** What `library add` takes: the folder kinds (boot and OS images come in through their own commands). */
const FOLDER_TYPES = PACKAGE_TYPES.filter((t) => t !== "boot-image" && t !== "os-image");

interface BootImageImport {
  kernel: string;
  initrd?: string;
  arch: string;
  cmdline?: string;
  drivers?: readonly string[];
  id?: string;
  name?: string;
  /** How the testbed judges the image (pass patterns, least memory): manifest `bootImage.testbed`. */
  testbed?: BootImageTestbed;
}

export function assertPackageId(id: string): string {
  if (!PACKAGE_ID.test(id))
    throw new BootmediaError("BM2305", `"${id}" is not a package id (letters, digits, _ . -)`, { where: id });
  return id;
}

export function assertArch(arch: string): Arch {
  if (!(ARCHES as readonly string[]).includes(arch))
    throw new BootmediaError(
      "BM2301",
      `--arch ${arch} is not a boot-image architecture (expected ${ARCHES.join(" or ")})`,
      { where: arch },
    );
  return arch as Arch;
}

export async function assertFile(path: string, what: string): Promise<string> {
  const abs = resolve(path);
  const st = await stat(abs).catch(() => undefined);
  if (!st?.isFile())
    throw new BootmediaError("BM2302", `${what} ${path} ${st ? "is not a file" : "does not exist"}`, { where: abs });
  return abs;
}

async function packageIds(library: string): Promise<string[]> {
  const dir = join(library, "packages");
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && !e.name.includes(".tmp"))
    .map((e) => e.name)
    .sort();
}

/** The next free id `prefix` + 2 digits (BM106401, OSI00001), or the one given if free. */
export async function chooseId(library: string, wanted: string | undefined, prefix: string): Promise<string> {
  const ids = await packageIds(library);
  if (wanted !== undefined) {
    assertPackageId(wanted);
    if (ids.includes(wanted))
      throw new BootmediaError("BM2303", `the library ${library} already has a package ${wanted}`, {
        where: join(library, "packages", wanted),
      });
    return wanted;
  }
  for (let n = 1; ; n++) {
    const id = `${prefix}${String(n).padStart(2, "0")}`;
    if (!ids.includes(id)) return id;
  }
}

/** Imports a kernel (and initrd) as a boot-image package; its files land in boot/<id>/. */
export async function addBootImage(library: string, input: BootImageImport): Promise<ContentPackage> {
  const arch = assertArch(input.arch);
  const kernel = await assertFile(input.kernel, "the kernel");
  const initrd = input.initrd !== undefined ? await assertFile(input.initrd, "the initrd") : undefined;
  await checkKernelFile(kernel, arch, `the kernel ${input.kernel}`);
  // The manifest schema refuses what GRUB's script would read as syntax: check before copying.
  const id = await chooseId(library, input.id, arch === "x64" ? "BM1064" : "BM1086");
  const kernelPath = `boot/${id}/${basename(kernel)}`;
  const initrdPath = initrd ? `boot/${id}/${basename(initrd)}` : undefined;
  const bootImage = {
    arch,
    drivers: [...(input.drivers ?? [])],
    kernel: kernelPath,
    ...(initrdPath ? { initrd: initrdPath } : {}),
    cmdline: input.cmdline ?? "",
    ...(input.testbed ? { testbed: input.testbed } : {}),
  };
  parseManifest({ id, type: "boot-image", name: "", version: "", bootImage, files: [] }, `--cmdline`);
  const files = new Map([
    [kernelPath, kernel],
    ...(initrd && initrdPath ? [[initrdPath, initrd] as [string, string]] : []),
  ]);
  await mkdir(join(library, "packages"), { recursive: true });
  return writeContentPackage(library, {
    id,
    name: input.name ?? `${basename(kernel)} (${arch}, imported)`,
    version: (await sha256File(kernel)).slice(0, 12),
    bootImage,
    files,
  });
}

/** Adds a folder's files as a prestart or task-sequence package (whose steps.yaml must validate first). */
export async function addFolder(
  library: string,
  folder: string,
  type: string,
  opts: { id?: string; name?: string } = {},
): Promise<ContentPackage> {
  if (!(FOLDER_TYPES as readonly string[]).includes(type))
    throw new BootmediaError(
      "BM2306",
      `--type ${type} is not a folder package type (expected ${FOLDER_TYPES.join(" or ")})`,
      { where: type },
    );
  const dir = resolve(folder);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory())
    throw new BootmediaError("BM2302", `the folder ${folder} does not exist`, { where: dir });
  // Before an id is taken or a byte copied: a bad steps file adds nothing.
  if (type === "task-sequence") await loadSteps(dir);
  const id = await chooseId(library, opts.id, type === "prestart" ? "BM3000" : "BM2000");
  const paths = (await fg("**/*", { cwd: dir, onlyFiles: true, dot: true, followSymbolicLinks: false })).sort();
  const files = new Map(paths.map((p) => [p, join(dir, p)]));
  await mkdir(join(library, "packages"), { recursive: true });
  return writeContentPackage(library, {
    id,
    type: type as PackageType,
    name: opts.name ?? basename(dir),
    version: "1",
    files,
  });
}

interface LibraryRow {
  id: string;
  type: string;
  name: string;
  version: string;
  arch?: Arch;
  files: number;
  /** Stored bytes of its files. */
  bytes: number;
  /** OS images: what they boot, how they are stored, their size on the disk. */
  osImage?: { firmware: string[]; secureBoot: boolean; compression: string; size: number; partitionTable: string };
}

export async function listLibrary(library: string): Promise<LibraryRow[]> {
  assertLibraryFolder(library);
  const rows: LibraryRow[] = [];
  for (const id of await packageIds(library)) {
    const pkg = await readManifestOf(library, id);
    rows.push({
      id,
      type: pkg.type,
      name: pkg.name,
      version: pkg.version,
      ...(pkg.bootImage ? { arch: pkg.bootImage.arch } : {}),
      ...(pkg.osImage ? { arch: pkg.osImage.arch } : {}),
      files: pkg.files.length,
      bytes: pkg.files.reduce((n, f) => n + f.size, 0),
      ...(pkg.osImage
        ? {
            osImage: {
              firmware: pkg.osImage.firmware,
              secureBoot: pkg.osImage.secureBoot,
              compression: pkg.osImage.compression,
              size: pkg.osImage.size,
              partitionTable: pkg.osImage.partitionTable,
            },
          }
        : {}),
    });
  }
  return rows;
}

interface VerifyProblem {
  code: ErrorCode;
  id: string;
  message: string;
}

/**
 * Every package's files against its manifest (size, sha256), each boot image's kernel header,
 * each task sequence's steps.yaml against the steps schema, and each OS image decompressed
 * (its uncompressed size and sha256, its partition table) in the same read as its hash.
 */
export async function verifyLibrary(
  library: string,
): Promise<{ packages: number; files: number; problems: VerifyProblem[] }> {
  assertLibraryFolder(library);
  const problems: VerifyProblem[] = [];
  let files = 0;
  const ids = await packageIds(library);
  for (const id of ids) {
    let pkg: ContentPackage;
    try {
      pkg = await readManifestOf(library, id);
    } catch (e) {
      problems.push({ code: "BM2003", id, message: (e as Error).message });
      continue;
    }
    const root = join(library, "packages", id, "files");
    for (const f of pkg.files) {
      files++;
      if (pkg.osImage?.image === f.path) {
        problems.push(...(await verifyOsImage(library, pkg)));
        continue;
      }
      const path = join(root, f.path);
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) problems.push({ code: "BM2304", id, message: `${id}/${f.path}: missing` });
      else if (st.size !== f.size)
        problems.push({
          code: "BM2304",
          id,
          message: `${id}/${f.path}: ${st.size} bytes, the manifest says ${f.size}`,
        });
      else if ((await sha256File(path)) !== f.sha256)
        problems.push({ code: "BM2304", id, message: `${id}/${f.path}: sha256 differs from the manifest's` });
    }
    if (pkg.type === "task-sequence") await verifySteps(library, pkg, problems);
    const b = pkg.bootImage;
    if (!b) continue;
    const listed = new Set(pkg.files.map((f) => f.path));
    if (!listed.has(b.kernel))
      problems.push({ code: "BM3601", id, message: `${id}: the kernel ${b.kernel} is not among its files` });
    else if (existsSync(join(root, b.kernel))) {
      await checkKernelFile(join(root, b.kernel), b.arch, `${id}: ${b.kernel}`).catch((e: BootmediaError) =>
        problems.push({ code: e.code as "BM3603", id, message: e.message }),
      );
    }
    if (b.initrd !== undefined && !listed.has(b.initrd))
      problems.push({ code: "BM3602", id, message: `${id}: the initrd ${b.initrd} is not among its files` });
  }
  return { packages: ids.length, files, problems };
}

/** A task-sequence package's steps.yaml: listed in its manifest, and valid (errors name the step). */
async function verifySteps(library: string, pkg: ContentPackage, problems: VerifyProblem[]): Promise<void> {
  const { id } = pkg;
  if (!pkg.files.some((f) => f.path === STEPS_FILE)) {
    problems.push({ code: "BM2402", id, message: `${id}: a task-sequence package without ${STEPS_FILE}` });
    return;
  }
  await loadPackageSteps(join(library, "packages", id)).catch((e: unknown) => {
    if (!(e instanceof BootmediaError)) throw e;
    problems.push({ code: e.code, id, message: `${id}/${STEPS_FILE}: ${e.message}` });
  });
}

function assertLibraryFolder(library: string): void {
  if (!existsSync(join(library, "packages")))
    throw new BootmediaError("BM2001", `no content library at ${library} (expected a "packages" folder)`, {
      where: library,
    });
}

async function readManifestOf(library: string, id: string): Promise<ContentPackage> {
  const file = join(library, "packages", id, "package.json");
  return parseManifest(JSON.parse(await readFile(file, "utf8")), `package ${id}`);
}
