/**
 * bootmedia's own boot-loader build: GRUB's boot files for BIOS (El Torito, MBR, core.img,
 * hybrid MBR) and UEFI (x64, ia32), made once with the host's grub-mkimage and kept in a
 * cache folder named by a hash of everything that shapes their bytes (early.cfg, the module
 * lists, GRUB's platform files and grub-mkimage's version). Media builds take them from there.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { BootmediaError } from "../../base/errors.ts";
import type { BootFileRole } from "../../core/types.ts";
import { buildGrubImage, copyBiosBootSector, copyHybridBootSector, EARLY_CFG, GRUB_IMAGES, GRUB_LIB } from "./grub-images.ts";
import "./codes.ts";

/** Each boot file: its name in the cache folder and where it lands on the media. */
export const BOOT_LOADER_FILES = {
  "bios-eltorito": { file: "eltorito.img", mediaPath: "boot/grub/i386-pc/eltorito.img" },
  "bios-hybrid": { file: "boot_hybrid.img", mediaPath: "boot/grub/i386-pc/boot_hybrid.img" },
  "bios-mbr": { file: "boot.img", mediaPath: "boot/grub/i386-pc/boot.img" },
  "bios-core": { file: "core.img", mediaPath: "boot/grub/i386-pc/core.img" },
  "uefi-x86": { file: "BOOTIA32.EFI", mediaPath: "EFI/BOOT/BOOTIA32.EFI" },
  "uefi-x64": { file: "BOOTX64.EFI", mediaPath: "EFI/BOOT/BOOTX64.EFI" },
} as const satisfies Record<BootFileRole, { file: string; mediaPath: string }>;

export interface BootLoaderFiles {
  /** The cache folder holding the files. */
  dir: string;
  /** Local path of each role's file. */
  files: Record<BootFileRole, string>;
  /** True when this call built them (false: taken from the cache). */
  built: boolean;
}

/** The cache folder: BOOTMEDIA_BOOT_LOADER_CACHE, else `boot-loader/` in the content cache. */
export function bootLoaderCacheDir(contentCacheDir: string): string {
  return process.env.BOOTMEDIA_BOOT_LOADER_CACHE || join(contentCacheDir, "boot-loader");
}

const PLATFORM_FILES = ["i386-pc/kernel.img", "i386-pc/boot.img", "i386-pc/boot_hybrid.img", "i386-pc/cdboot.img", "i386-efi/kernel.img", "x86_64-efi/kernel.img"];

async function checkTools(): Promise<string> {
  const r = await execa("grub-mkimage", ["--version"], { reject: false });
  if (r.exitCode !== 0) throw new BootmediaError("BM4401", "grub-mkimage is not installed (Debian package grub-common)", { where: "grub-mkimage" });
  const missing = PLATFORM_FILES.filter((f) => !existsSync(join(GRUB_LIB, f)));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((f) => ({ "i386-pc": "grub-pc-bin", "i386-efi": "grub-efi-ia32-bin", "x86_64-efi": "grub-efi-amd64-bin" })[f.split("/")[0] as "i386-pc"]))];
    throw new BootmediaError("BM4401", `GRUB platform files missing: ${missing.map((f) => join(GRUB_LIB, f)).join(", ")} (Debian packages ${pkgs.join(", ")})`, { where: GRUB_LIB });
  }
  return r.stdout.trim();
}

/** A hash of every input of the boot files' bytes. */
async function bootLoaderKey(grubVersion: string): Promise<string> {
  const h = createHash("sha256");
  h.update(`${grubVersion}\n${JSON.stringify(GRUB_IMAGES)}\n`);
  h.update(await readFile(EARLY_CFG));
  for (const f of PLATFORM_FILES) h.update(await readFile(join(GRUB_LIB, f)));
  return h.digest("hex").slice(0, 16);
}

const filesIn = (dir: string) =>
  Object.fromEntries(Object.entries(BOOT_LOADER_FILES).map(([role, f]) => [role, join(dir, f.file)])) as Record<BootFileRole, string>;

/** The boot files, from the cache or built into it (atomically: a half-built folder is never used). */
export async function ensureBootLoader(cacheDir: string, log: (line: string) => void = () => {}): Promise<BootLoaderFiles> {
  const version = await checkTools();
  const dir = join(cacheDir, await bootLoaderKey(version));
  if (existsSync(join(dir, "complete"))) return { dir, files: filesIn(dir), built: false };
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const start = performance.now();
  for (const role of Object.keys(GRUB_IMAGES) as Array<keyof typeof GRUB_IMAGES>) await buildGrubImage(role, join(tmp, BOOT_LOADER_FILES[role].file));
  await copyBiosBootSector(join(tmp, BOOT_LOADER_FILES["bios-mbr"].file));
  await copyHybridBootSector(join(tmp, BOOT_LOADER_FILES["bios-hybrid"].file));
  await writeFile(join(tmp, "complete"), `${version}\n`);
  try {
    await rename(tmp, dir);
  } catch (e) {
    // Another build finished the same folder first: theirs is as good.
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, "complete"))) throw e;
  }
  log(`boot loader: built GRUB boot files with ${version} into ${dir} (${((performance.now() - start) / 1000).toFixed(1)} s)`);
  return { dir, files: filesIn(dir), built: true };
}
