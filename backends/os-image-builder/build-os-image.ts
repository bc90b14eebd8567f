/**
 * `bootmedia os-image build`: a minimal Debian as a whole-disk image in the content library.
 * mmdebstrap installs the recipe (config.ts) into a folder; tree.ts adds bootmedia's first-boot
 * units; disk.ts writes the GPT disk (BIOS-boot, ESP, root ext4) without loop devices; GRUB
 * boots it on BIOS and UEFI (x64: Debian's signed shim and GRUB, so Secure Boot too); zstd
 * compresses it; `addOsImage` (library add-os-image) adds the package.
 *
 * Cached like `boot-image build`: a stamp holds every input (recipe, the suites' InRelease
 * hashes, the builder's files, SOURCE_DATE_EPOCH); the same stamp and an intact package mean
 * nothing to do. The .debs stay in `<workDir>/debs` between builds.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { packagePath } from "../../base/package-root.ts";
import type { Arch } from "../../core/compat.ts";
import { sha256File } from "../../core/content/manifest.ts";
import { findOnHost, requirementOf, type HostTool } from "../../core/doctor.ts";
import { runProgram } from "../../core/program.ts";
import { silentProgress, type Progress } from "../../core/progress.ts";
import type { TreeEntry } from "../../base/tree.ts";
import { withDirLock } from "../boot-image-builder/lock.ts";
import { hashInputs, packagesIntact } from "../boot-image-builder/stamp.ts";
import { bootstrapTree } from "./bootstrap.ts";
import {
  ARCH_IMAGE_RECIPES,
  DEFAULT_IDS,
  DEFAULT_IMAGE_SIZE,
  DISTRO_RECIPES,
  KERNEL_CMDLINE,
  type Distro,
} from "./config.ts";
import {
  normalizeInodeTimes,
  planDisk,
  writeEsp,
  writeGrubBios,
  writePartitionTable,
  writeRootFs,
  type DiskPlan,
} from "./disk.ts";
import { earlyConfig, espConfig, mainConfig, mkGrubImage } from "./grub.ts";
import { newestSuiteEpoch, readSuiteStates, recordDebs } from "./inputs.ts";
import { addOsImage } from "../library-admin/os-image.ts";
import { removeTree } from "./tree-mounts.ts";
import type { ContentPackage } from "../../core/types.ts";
import { clampTimes, customizeTree, IMAGE_FILES, IMAGE_FILES_DIR, stripTree } from "./tree.ts";
import "./codes.ts";

interface OsImageBuildOptions {
  distro: Distro;
  arch: Arch;
  library: string;
  /** Package id (default OSI00064 / OSI00086). */
  id?: string;
  /** Whole-disk bytes (default 1.5 GiB); the root grows to the real disk on first boot. */
  size?: number;
  /** Debs, trees, images and stamps (kept between builds). */
  workDir: string;
  /** Seconds since 1970 for every timestamp (default: SOURCE_DATE_EPOCH, else the newest suite's Date). */
  sourceDateEpoch?: number;
  force?: boolean;
  /** Keep the raw image and the tree in the work folder (tests read them). */
  keepWork?: boolean;
  progress?: Progress;
  log?: (line: string) => void;
}

/** An os-image package's manifest: the `osImage` section is there. */
export type OsImagePackage = ContentPackage & { osImage: NonNullable<ContentPackage["osImage"]> };

export interface OsImageBuildResult {
  manifest: OsImagePackage;
  upToDate: boolean;
  packageDir: string;
  /** The uncompressed image in the work folder (present after a build with keepWork). */
  rawImage: string;
}

const sourceFile = (rel: string) =>
  existsSync(packagePath(rel)) ? packagePath(rel) : packagePath("dist", rel.replace(/\.ts$/, ".js"));

/** Every file whose change must rebuild the image. */
const INPUT_FILES = [
  ...["bootstrap.ts", "build-os-image.ts", "config.ts", "disk.ts", "grub.ts", "inputs.ts", "tree.ts"].map((f) =>
    sourceFile(`backends/os-image-builder/${f}`),
  ),
  ...IMAGE_FILES.map(([src]) => join(IMAGE_FILES_DIR, src)),
  sourceFile("formats/disk/grub.ts"),
  ...["plan.ts", "write.ts", "encode.ts"].map((f) => sourceFile(`formats/fat/${f}`)),
];

const REQUIRED_TOOLS = [
  "arch-test",
  "mmdebstrap",
  "mkfs.ext4",
  "debugfs",
  "sfdisk",
  "grub-mkimage",
  "zstd",
] as const satisfies readonly HostTool[];

function checkHost(): void {
  if (process.getuid?.() !== 0)
    throw new BootmediaError("BM5401", "os-image build runs mmdebstrap as root, and this process is not root");
  for (const tool of REQUIRED_TOOLS)
    if (findOnHost(tool) === undefined)
      throw new BootmediaError(
        "BM5402",
        `${tool} is not installed (Debian package ${requirementOf(tool).debianPackage})`,
        {
          where: tool,
        },
      );
}

async function timed<T>(progress: Progress, stage: string, step: () => Promise<T>): Promise<T> {
  const s = progress.stage(stage, "items");
  try {
    return await step();
  } finally {
    s.end();
  }
}

export async function buildOsImage(opts: OsImageBuildOptions): Promise<OsImageBuildResult> {
  checkHost();
  await mkdir(opts.workDir, { recursive: true });
  const log = opts.log ?? (() => {});
  return withDirLock(join(opts.workDir, ".lock"), () => buildLocked(opts, log), log);
}

async function buildLocked(opts: OsImageBuildOptions, log: (l: string) => void): Promise<OsImageBuildResult> {
  const progress = opts.progress ?? silentProgress;
  const distro = DISTRO_RECIPES[opts.distro];
  const recipe = ARCH_IMAGE_RECIPES[opts.arch];
  const id = opts.id ?? DEFAULT_IDS[opts.arch];
  const size = opts.size ?? DEFAULT_IMAGE_SIZE;
  const work = join(opts.workDir, `${opts.distro}-${opts.arch}`);
  const packageDir = join(opts.library, "packages", id);
  const rawImage = join(work, `${opts.distro}-${opts.arch}.raw`);

  const suites = await timed(progress, "suite indexes", () => readSuiteStates(distro.sources, recipe.debArch));
  const stampFile = join(opts.workDir, "stamps", `${id}.json`);
  const oldStamp = existsSync(stampFile) ? await readFile(stampFile, "utf8") : "";
  const suiteKeys = suites.map((s) => ({ url: s.url, packagesSha256: s.packagesSha256 }));
  // Debian re-signs its suites (a new Date) without changing a package: the last build's epoch
  // stands while the package indexes are the same, so the cache holds and a rebuild is identical.
  const previous = stampOf(oldStamp);
  const epoch =
    opts.sourceDateEpoch ??
    (previous && JSON.stringify(previous.suites) === JSON.stringify(suiteKeys)
      ? previous.sourceDateEpoch
      : newestSuiteEpoch(suites));
  const stamp = {
    id,
    distro: opts.distro,
    arch: opts.arch,
    size,
    packages: recipe.packages,
    suites: suiteKeys,
    sourceDateEpoch: epoch,
    inputsSha256: await hashInputs(INPUT_FILES),
  };
  const stampText = `${JSON.stringify(stamp, null, 2)}\n`;
  if (!opts.force && oldStamp === stampText && (await packagesIntact(opts.library, [id]))) {
    log(`up to date: ${id} in ${opts.library}`);
    const manifest = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as OsImagePackage;
    return { manifest, upToDate: true, packageDir, rawImage };
  }
  await rm(stampFile, { force: true });
  await mkdir(work, { recursive: true });

  const tree = join(work, "tree");
  const debCache = join(opts.workDir, "debs", recipe.debArch);
  const installed = await timed(progress, "mmdebstrap", () =>
    bootstrapTree({
      suite: distro.suite,
      sources: distro.sources,
      debArch: recipe.debArch,
      packages: recipe.packages,
      tree,
      debCache,
      sourceDateEpoch: epoch,
      log,
    }),
  );
  const debs = await recordDebs(installed, debCache);
  const kernel = installed.find((p) => p.name.startsWith("linux-image-") && /\d/.test(p.name));
  log(`${installed.length} packages installed; kernel ${kernel?.name ?? "?"} ${kernel?.version ?? ""}`);

  const plan = planDisk(size, recipe.rootType, `${opts.distro}:${opts.arch}:${epoch}`);
  await timed(progress, "disk image", async () => {
    await writePartitionTable(rawImage, plan);
    const espSerial = await writeEsp(rawImage, plan, await espEntries(opts.arch, tree, work, plan), epoch);
    await writeFile(join(work, "early.cfg"), earlyConfig(plan.rootFsUuid));
    const core = await mkGrubImage(tree, "i386-pc", join(work, "early.cfg"), join(work, "core.img"));
    await writeGrubBios(rawImage, plan, await readFile(join(tree, "usr/lib/grub/i386-pc/boot.img")), core);
    await customizeTree(tree, {
      rootFsUuid: plan.rootFsUuid,
      espSerial,
      grubConfig: mainConfig(plan.rootFsUuid, `${distro.name} (${opts.arch}, bootmedia)`),
    });
    await stripTree(tree);
    await clampTimes(tree, epoch);
    await writeRootFs(rawImage, plan, tree, epoch);
    await normalizeInodeTimes(rawImage, plan, tree, epoch, work);
  });
  const rawSha256 = await sha256File(rawImage);
  const compressed = join(work, `${opts.distro}-${opts.arch}.raw.zst`);
  await timed(progress, "zstd", async () => {
    const r = await runProgram("zstd", ["-q", "-f", "-T0", "-9", "-o", compressed, rawImage], { reject: false });
    if (r.exitCode !== 0) throw new BootmediaError("BM5404", `zstd failed: ${r.stderr.trim()}`);
  });
  // The package as `library add-os-image` writes it (its own table read, both hashes), with the
  // build's record beside; the compressed image moves in. A rebuild replaces the package.
  await rm(packageDir, { recursive: true, force: true });
  const added = await addOsImage(opts.library, {
    image: compressed,
    arch: opts.arch,
    firmware: ["bios", "uefi"],
    secureBoot: recipe.secureBoot,
    rootPartition: plan.rootPartition,
    id,
    name: `${distro.name} (${opts.arch})`,
    version: `${distro.suite}-${epoch}`,
    moveImage: true,
    manifestExtras: {
      build: {
        tool: "bootmedia os-image build",
        distro: opts.distro,
        suite: distro.suite,
        sources: distro.sources,
        suites: suites,
        sourceDateEpoch: epoch,
        packages: recipe.packages,
        kernelCmdline: KERNEL_CMDLINE,
        rootFsUuid: plan.rootFsUuid,
        debs,
      },
    },
  });
  if (added.osImage?.sha256 !== rawSha256)
    throw new BootmediaError(
      "BM5404",
      `the package's image reads back as ${added.osImage?.sha256}, built ${rawSha256}`,
    );
  const manifest = added as OsImagePackage;
  await rm(compressed, { force: true });
  if (!opts.keepWork) await removeTree(tree);
  await mkdir(join(opts.workDir, "stamps"), { recursive: true });
  await writeFile(stampFile, stampText);
  log(`wrote ${packageDir}: ${size} bytes raw, ${manifest.files[0]!.size} bytes zstd`);
  return { manifest, upToDate: false, packageDir, rawImage };
}

/** A stamp file's suites and epoch, or undefined (none, or one this version did not write). */
function stampOf(text: string): { suites: unknown; sourceDateEpoch: number } | undefined {
  try {
    const s = JSON.parse(text) as { suites?: unknown; sourceDateEpoch?: unknown };
    return typeof s.sourceDateEpoch === "number" && Array.isArray(s.suites)
      ? { suites: s.suites, sourceDateEpoch: s.sourceDateEpoch }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The ESP's files: x64 Debian's signed shim → GRUB chain; x86 our ia32 GRUB. Both find the root by UUID. */
async function espEntries(arch: Arch, tree: string, work: string, plan: DiskPlan): Promise<TreeEntry[]> {
  const cfg = Buffer.from(espConfig(plan.rootFsUuid));
  const fromTree = async (path: string, rel: string): Promise<TreeEntry> => {
    const src = join(tree, rel);
    return { type: "file", path, size: (await stat(src)).size, source: { kind: "file", path: src } };
  };
  const bytes = (path: string, data: Buffer): TreeEntry => ({
    type: "file",
    path,
    size: data.length,
    source: { kind: "bytes", data },
  });
  if (arch === "x64") {
    const shim = "usr/lib/shim/shimx64.efi.signed";
    const grub = "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed";
    const mm = "usr/lib/shim/mmx64.efi.signed";
    return [
      await fromTree("EFI/BOOT/BOOTX64.EFI", shim),
      await fromTree("EFI/BOOT/grubx64.efi", grub),
      await fromTree("EFI/BOOT/mmx64.efi", mm),
      bytes("EFI/BOOT/grub.cfg", cfg),
      await fromTree("EFI/debian/shimx64.efi", shim),
      await fromTree("EFI/debian/grubx64.efi", grub),
      await fromTree("EFI/debian/mmx64.efi", mm),
      bytes("EFI/debian/grub.cfg", cfg),
    ];
  }
  await writeFile(join(work, "early.cfg"), earlyConfig(plan.rootFsUuid));
  const efi = await mkGrubImage(tree, "i386-efi", join(work, "early.cfg"), join(work, "bootia32.efi"));
  return [bytes("EFI/BOOT/BOOTIA32.EFI", efi)];
}
