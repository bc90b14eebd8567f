/**
 * Test support: builds GRUB images with `grub-mkimage` (grub-common + the platform's module
 * package) for the disk writer's tests. The product's GRUB images come from the boot-loader
 * plugin (plugins/boot-loader/grub-images.ts); bootmedia never assembles boot code itself.
 */
import { execa } from "execa";
import { BootmediaError } from "../../../base/errors.ts";
import "../codes.ts";

const GRUB_PLATFORMS = ["i386-pc", "x86_64-efi", "i386-efi"] as const;
type GrubPlatform = (typeof GRUB_PLATFORMS)[number];

/** Modules a stick needs to find its partition, read FAT and run grub.cfg with a serial console. */
const GRUB_BASE_MODULES = [
  "part_msdos",
  "part_gpt",
  "fat",
  "normal",
  "configfile",
  "search",
  "search_fs_file",
  "serial",
  "terminal",
  "echo",
  "test",
  "linux",
] as const;
const PLATFORM_MODULES: Record<GrubPlatform, readonly string[]> = {
  "i386-pc": ["biosdisk"],
  "x86_64-efi": [],
  "i386-efi": [],
};

interface GrubImageOptions {
  platform: GrubPlatform;
  out: string;
  /** GRUB's prefix, e.g. "/boot/grub" (the device defaults to the one GRUB booted from). */
  prefix: string;
  extraModules?: readonly string[];
  /** Module directory; default /usr/lib/grub/<platform>. */
  moduleDir?: string;
}

/** Runs grub-mkimage; throws BM4207 when the tool or the modules are missing. */
export async function buildGrubImage(opts: GrubImageOptions): Promise<void> {
  const modules = [...PLATFORM_MODULES[opts.platform], ...GRUB_BASE_MODULES, ...(opts.extraModules ?? [])];
  const args = [
    "-O",
    opts.platform,
    "-d",
    opts.moduleDir ?? `/usr/lib/grub/${opts.platform}`,
    "-p",
    opts.prefix,
    "-o",
    opts.out,
    ...modules,
  ];
  const r = await execa("grub-mkimage", args, { reject: false, all: true });
  if (r.exitCode !== 0) {
    throw new BootmediaError(
      "BM4207",
      `grub-mkimage -O ${opts.platform} failed: ${(r.all ?? "").trim() || r.shortMessage}`,
    );
  }
}
