/**
 * bootmedia's own boot-loader build: GRUB's boot files for BIOS (El Torito, MBR, core.img,
 * hybrid MBR) and UEFI (x64, ia32), made once with the host's grub-mkimage and kept in a
 * cache folder named by a hash of everything that shapes their bytes (early.cfg, the module
 * lists, GRUB's platform files and grub-mkimage itself). Media builds take them from there.
 * Finding the folder costs no process and no read of GRUB's files: the key takes the tools'
 * identity from stat (size, mtime, inode — a package upgrade replaces the files), so `plan`
 * and a cached build stay quick; grub-mkimage runs, and reports its version, only to build.
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import type { Arch, Firmware } from "../../core/compat.ts";
import { runProgram } from "../../core/program.ts";
import type { BootFileRole } from "../../core/types.ts";
import { which } from "../../core/which.ts";
import {
  buildGrubImage,
  copyBiosBootSector,
  copyHybridBootSector,
  EARLY_CFG,
  GRUB_IMAGES,
  GRUB_LIB,
} from "./grub-images.ts";
import "./codes.ts";

/** Each boot file: its name in the cache folder, where it lands on the media, and the firmware and machine bitness it serves. */
export const BOOT_LOADER_FILES = {
  "bios-eltorito": { file: "eltorito.img", mediaPath: "boot/grub/i386-pc/eltorito.img", firmware: "bios", arch: "x86" },
  "bios-hybrid": {
    file: "boot_hybrid.img",
    mediaPath: "boot/grub/i386-pc/boot_hybrid.img",
    firmware: "bios",
    arch: "x86",
  },
  "bios-mbr": { file: "boot.img", mediaPath: "boot/grub/i386-pc/boot.img", firmware: "bios", arch: "x86" },
  "bios-core": { file: "core.img", mediaPath: "boot/grub/i386-pc/core.img", firmware: "bios", arch: "x86" },
  "uefi-x86": { file: "BOOTIA32.EFI", mediaPath: "EFI/BOOT/BOOTIA32.EFI", firmware: "uefi", arch: "x86" },
  "uefi-x64": { file: "BOOTX64.EFI", mediaPath: "EFI/BOOT/BOOTX64.EFI", firmware: "uefi", arch: "x64" },
} as const satisfies Record<GrubBootRole, { file: string; mediaPath: string; firmware: Firmware; arch: Arch }>;

/** The roles bootmedia's own GRUB build fills (a Secure Boot chain adds the shim's loader). */
export type GrubBootRole = Exclude<BootFileRole, "uefi-x64-loader">;

export interface BootLoaderFiles {
  /** The cache folder holding the files. */
  dir: string;
  /** Local path of each role's file. */
  files: Record<GrubBootRole, string>;
  /** True when this call built them (false: taken from the cache). */
  built: boolean;
}

/** The cache folder: BOOTMEDIA_BOOT_LOADER_CACHE, else `boot-loader/` in the content cache. */
export function bootLoaderCacheDir(contentCacheDir: string): string {
  return process.env.BOOTMEDIA_BOOT_LOADER_CACHE || join(contentCacheDir, "boot-loader");
}

const PLATFORM_FILES = [
  "i386-pc/kernel.img",
  "i386-pc/boot.img",
  "i386-pc/boot_hybrid.img",
  "i386-pc/cdboot.img",
  "i386-efi/kernel.img",
  "x86_64-efi/kernel.img",
];

/** grub-mkimage on PATH, found without running it. */
function findGrubMkimage(): string {
  const path = which("grub-mkimage");
  if (path) return path;
  throw new BootmediaError("BM4401", "grub-mkimage is not installed (Debian package grub-common)", {
    where: "grub-mkimage",
  });
}

/** The tools a build would use: grub-mkimage and GRUB's platform files, each checked present. */
function checkTools(): string[] {
  const missing = PLATFORM_FILES.filter((f) => !existsSync(join(GRUB_LIB, f)));
  if (missing.length > 0) {
    const pkgs = [
      ...new Set(
        missing.map(
          (f) =>
            ({ "i386-pc": "grub-pc-bin", "i386-efi": "grub-efi-ia32-bin", "x86_64-efi": "grub-efi-amd64-bin" })[
              f.split("/")[0] as "i386-pc"
            ],
        ),
      ),
    ];
    throw new BootmediaError(
      "BM4401",
      `GRUB platform files missing: ${missing.map((f) => join(GRUB_LIB, f)).join(", ")} (Debian packages ${pkgs.join(", ")})`,
      { where: GRUB_LIB },
    );
  }
  return [findGrubMkimage(), ...PLATFORM_FILES.map((f) => join(GRUB_LIB, f))];
}

/**
 * The host files GRUB's boot files are made from (grub-mkimage and GRUB's platform files),
 * for the SBOM (plugins/sbom): dpkg names the packages that own them. The cache key holds
 * their stat identity, so a cached boot file was made from these very files.
 */
export function bootLoaderToolFiles(): string[] {
  const mkimage = which("grub-mkimage");
  return [...(mkimage ? [mkimage] : []), ...PLATFORM_FILES.map((f) => join(GRUB_LIB, f))];
}

/** A hash of every input of the boot files' bytes; the tools by their stat identity. */
async function bootLoaderKey(tools: string[]): Promise<string> {
  const h = createHash("sha256");
  h.update(`${JSON.stringify(GRUB_IMAGES)}\n`);
  h.update(await readFile(EARLY_CFG));
  for (const path of tools) {
    const st = statSync(path);
    h.update(`${path} ${st.size} ${st.mtimeMs} ${st.ino}\n`);
  }
  return h.digest("hex").slice(0, 16);
}

async function grubVersion(): Promise<string> {
  const r = await runProgram("grub-mkimage", ["--version"], { reject: false });
  if (r.exitCode !== 0)
    throw new BootmediaError("BM4401", "grub-mkimage does not run (Debian package grub-common)", {
      where: "grub-mkimage",
    });
  return r.stdout.trim();
}

const filesIn = (dir: string) =>
  Object.fromEntries(Object.entries(BOOT_LOADER_FILES).map(([role, f]) => [role, join(dir, f.file)])) as Record<
    GrubBootRole,
    string
  >;

/** BM2010, as for the content cache: the boot loader's cache lives in it. */
function cacheUnusable(cacheDir: string, e: unknown): BootmediaError {
  const code = (e as NodeJS.ErrnoException).code ?? String(e);
  return new BootmediaError("BM2010", `cannot use ${cacheDir} as the boot loader's cache (${code})`, {
    where: cacheDir,
    cause: e,
  });
}

/**
 * Fills the cache folder `dir` atomically: `fill` writes into a temporary folder, which is
 * renamed into place once marked complete (with `version`), so a half-built folder is never used.
 */
async function fillCacheFolder(
  cacheDir: string,
  dir: string,
  version: string,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
  } catch (e) {
    throw cacheUnusable(cacheDir, e);
  }
  await fill(tmp);
  try {
    await writeFile(join(tmp, "complete"), `${version}\n`);
  } catch (e) {
    throw cacheUnusable(cacheDir, e);
  }
  try {
    await rename(tmp, dir);
  } catch (e) {
    // Another build finished the same folder first: theirs is as good.
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, "complete"))) throw e;
  }
}

/** The boot files, from the cache or built into it (atomically: a half-built folder is never used). */
export async function ensureBootLoader(
  cacheDir: string,
  log: (line: string) => void = () => {},
): Promise<BootLoaderFiles> {
  const dir = join(cacheDir, await bootLoaderKey(checkTools()));
  if (existsSync(join(dir, "complete"))) return { dir, files: filesIn(dir), built: false };
  const version = await grubVersion();
  const start = performance.now();
  await fillCacheFolder(cacheDir, dir, version, async (tmp) => {
    for (const role of Object.keys(GRUB_IMAGES) as Array<keyof typeof GRUB_IMAGES>)
      await buildGrubImage(role, join(tmp, BOOT_LOADER_FILES[role].file));
    await copyBiosBootSector(join(tmp, BOOT_LOADER_FILES["bios-mbr"].file));
    await copyHybridBootSector(join(tmp, BOOT_LOADER_FILES["bios-hybrid"].file));
  });
  log(
    `boot loader: built GRUB boot files with ${version} into ${dir} (${((performance.now() - start) / 1000).toFixed(1)} s)`,
  );
  return { dir, files: filesIn(dir), built: true };
}

/**
 * The x64 UEFI GRUB a shim starts (EFI/BOOT/grubx64.efi of a Secure Boot chain): the same
 * build as BOOTX64.EFI plus an `.sbat` section, which shim requires of every loader it
 * starts (shim's SBAT.md). Cached beside the boot files; the key adds `sbatFrom` (the file
 * the SBAT text comes from) by its stat identity, so a cached build neither reads that file
 * nor runs grub-mkimage: `sbatOf(GRUB's package version)` gives the text only to build.
 */
export async function ensureSbatGrub(
  cacheDir: string,
  sbatFrom: string,
  sbatOf: (grubPackageVersion: string) => Promise<string>,
  log: (line: string) => void = () => {},
): Promise<string> {
  const dir = join(cacheDir, `sbat-${await bootLoaderKey([...checkTools(), sbatFrom])}`);
  const file = join(dir, "grubx64.efi");
  if (existsSync(join(dir, "complete"))) return file;
  const version = await grubVersion();
  const sbat = await sbatOf(version.replace(/^.*\)\s*/, "").trim());
  await fillCacheFolder(cacheDir, dir, version, async (tmp) => {
    try {
      await writeFile(join(tmp, "sbat.csv"), sbat);
    } catch (e) {
      throw cacheUnusable(cacheDir, e);
    }
    await buildGrubImage("uefi-x64", join(tmp, "grubx64.efi"), ["--sbat", join(tmp, "sbat.csv")]);
  });
  log(`boot loader: built the x64 GRUB with SBAT for shim into ${dir}`);
  return file;
}
