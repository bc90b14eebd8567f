/**
 * Assembles an ISO from the reference boot-image packages (fixtures/reference/content,
 * built by `npm run fixtures`) with xorriso, independent of our own ISO writer, so the
 * testbed can be proven against the real boot environment: GRUB, kernel, agent, markers.
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultCacheDir } from "../../core/cache.ts";
import type { Arch } from "../../core/compat.ts";
import type { ContentPackage } from "../../core/types.ts";
import {
  BOOT_LOADER_FILES,
  bootLoaderCacheDir,
  ensureBootLoader,
} from "../../plugins/boot-loader/boot-loader-build.ts";
import { bootRolesFor, grubImagesOf } from "../../plugins/boot-loader/boot-loader-plugin.ts";
import { GRUB_CFG_MEDIA_PATH, renderGrubCfg } from "../../plugins/boot-loader/grub-cfg.ts";

/** Where `npm run fixtures` puts the reference library, wherever the process runs from. */
export const REFERENCE_LIBRARY = fileURLToPath(new URL("../../fixtures/reference/content", import.meta.url));
export const REFERENCE_PACKAGES = { x86: "BM100086", x64: "BM100064" } as const satisfies Record<Arch, string>;

/** The part of a boot-image manifest the testbed reads (the fixtures' README has the whole). */
interface BootImageManifest extends ContentPackage {
  bootImage: NonNullable<ContentPackage["bootImage"]>;
}

const MEDIA_ENV = {
  BM_MEDIA_ID: "TESTBED1",
  BM_TASK_SEQUENCE: "BM200010",
  BM_MP_MODE: "dynamic",
  BM_MPS: "http://mp1.contoso.test",
  BM_UNATTENDED: "true",
  BM_UNKNOWN_COMPUTERS: "false",
  BM_UDA: "auto",
};

/** FAT image size for the El Torito UEFI entry: the boot files plus room (KiB). */
const ESP_KIB = 8192;

export function hasReferencePackages(library = REFERENCE_LIBRARY): boolean {
  return Object.values(REFERENCE_PACKAGES).every((id) => existsSync(join(library, "packages", id, "package.json")));
}

export async function readReferenceManifest(arch: Arch, library = REFERENCE_LIBRARY): Promise<BootImageManifest> {
  return JSON.parse(await readFile(join(library, "packages", REFERENCE_PACKAGES[arch], "package.json"), "utf8"));
}

/**
 * `<dir>/<name>.iso`: the packages of `images`, the media config, a BIOS El Torito entry
 * and a UEFI one whose ESP holds the EFI boot files of exactly those images.
 */
export async function makeReferenceIso(
  dir: string,
  name: string,
  images: readonly Arch[],
  library = REFERENCE_LIBRARY,
): Promise<{ path: string; drivers: string[] }> {
  const staging = join(dir, `${name}.stage`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, "bootmedia"), { recursive: true });
  await writeFile(join(staging, "bootmedia/media.json"), JSON.stringify({ id: MEDIA_ENV.BM_MEDIA_ID }) + "\n");
  await writeFile(
    join(staging, "bootmedia/media.env"),
    Object.entries(MEDIA_ENV)
      .map(([k, v]) => `${k}='${v}'\n`)
      .join(""),
  );

  const grafts = new Map<string, string>();
  const efiFiles: string[] = [];
  const drivers = new Set<string>();
  const manifests: BootImageManifest[] = [];
  for (const arch of images) {
    const manifest = await readReferenceManifest(arch, library);
    manifests.push(manifest);
    const files = join(library, "packages", REFERENCE_PACKAGES[arch], "files");
    for (const f of manifest.files) grafts.set(f.path, join(files, f.path));
    manifest.bootImage.drivers.forEach((d) => drivers.add(d));
  }
  // The boot loader as bootmedia puts it on media: its GRUB files and the generated grub.cfg.
  const loader = await ensureBootLoader(bootLoaderCacheDir(defaultCacheDir()));
  for (const role of bootRolesFor(manifests)) {
    if (role.startsWith("uefi-")) efiFiles.push(loader.files[role]);
    else grafts.set(BOOT_LOADER_FILES[role].mediaPath, loader.files[role]);
  }
  await writeFile(join(staging, "grub.cfg"), renderGrubCfg(grubImagesOf(manifests)));
  grafts.set(GRUB_CFG_MEDIA_PATH, join(staging, "grub.cfg"));
  const eltorito = BOOT_LOADER_FILES["bios-eltorito"].mediaPath;

  const esp = join(staging, "esp.img");
  await execa("mkfs.fat", ["-C", "-n", "ESP", esp, String(ESP_KIB)]);
  await execa("mmd", ["-i", esp, "::/EFI", "::/EFI/BOOT"]);
  for (const f of efiFiles) await execa("mcopy", ["-i", esp, f, "::/EFI/BOOT/"]);

  const out = join(dir, `${name}.iso`);
  await execa(
    "xorriso",
    [
      "-as",
      "mkisofs",
      "-quiet",
      "-R",
      "-J",
      "-V",
      "BMTESTBED",
      "-o",
      out,
      "-b",
      eltorito,
      "-no-emul-boot",
      "-boot-load-size",
      "4",
      "-boot-info-table",
      "-eltorito-alt-boot",
      "-e",
      "esp.img",
      "-no-emul-boot",
      "-graft-points",
      staging,
      ...[...grafts].map(([media, local]) => `${media}=${local}`),
    ],
    { env: { SOURCE_DATE_EPOCH: "1700000000" } },
  );
  return { path: out, drivers: [...drivers].sort() };
}
