/**
 * GRUB for the installed disk: the configuration files, and the loaders grub-mkimage builds
 * from the image's own GRUB packages (`usr/lib/grub/<target>` of the installed tree, so the
 * modules are Debian's, verified by apt). x64 UEFI uses Debian's signed GRUB instead, started
 * by the signed shim (the Secure Boot chain); it reads `\EFI\debian\grub.cfg`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { runProgram } from "../../core/program.ts";
import { GRUB_TIMEOUT_SECONDS, KERNEL_CMDLINE } from "./config.ts";
import "./codes.ts";

/** Modules built into our core images: disk, GPT, ext4, and what grub.cfg runs. */
const GRUB_MODULES = [
  "part_gpt",
  "part_msdos",
  "ext2",
  "fat",
  "search",
  "search_fs_uuid",
  "normal",
  "configfile",
  "linux",
  "echo",
  "test",
  "serial",
  "terminal",
  "gzio",
  "minicmd",
  "reboot",
  "halt",
  "sleep",
] as const;

/** The first lines every loader runs: find the root filesystem by its UUID, read its grub.cfg. */
export function earlyConfig(rootFsUuid: string): string {
  return `search --no-floppy --fs-uuid --set=root ${rootFsUuid}\nset prefix=($root)/boot/grub\n`;
}

/** `\EFI\debian\grub.cfg` (and `\EFI\BOOT\grub.cfg`): where Debian's signed GRUB looks first. */
export function espConfig(rootFsUuid: string): string {
  return `${earlyConfig(rootFsUuid)}configfile $prefix/grub.cfg\n`;
}

/**
 * `/boot/grub/grub.cfg`: one entry through Debian's /vmlinuz and /initrd.img links (kept by
 * the kernel packages, so an upgraded kernel boots without regenerating this file); the
 * serial line at 115200 on BIOS (UEFI firmware already mirrors its console there).
 */
export function mainConfig(rootFsUuid: string, title: string): string {
  return [
    `set timeout=${GRUB_TIMEOUT_SECONDS}`,
    "set default=0",
    'if [ "$grub_platform" = pc ]; then',
    "  if serial --unit=0 --speed=115200; then",
    "    terminal_input serial console",
    "    terminal_output serial console",
    "  fi",
    "fi",
    `menuentry '${title}' {`,
    `  search --no-floppy --fs-uuid --set=root ${rootFsUuid}`,
    `  linux /vmlinuz root=UUID=${rootFsUuid} ro ${KERNEL_CMDLINE}`,
    "  initrd /initrd.img",
    "}",
    "",
  ].join("\n");
}

/** grub-mkimage of `target` from the tree's modules, with the early config built in. */
export async function mkGrubImage(
  tree: string,
  target: "i386-pc" | "i386-efi",
  configFile: string,
  out: string,
): Promise<Buffer> {
  const dir = join(tree, "usr/lib/grub", target);
  const r = await runProgram(
    "grub-mkimage",
    [
      "-O",
      target,
      "-d",
      dir,
      "-c",
      configFile,
      "-p",
      "/boot/grub",
      "-o",
      out,
      ...(target === "i386-pc" ? ["biosdisk"] : []),
      ...GRUB_MODULES,
    ],
    { reject: false },
  );
  if (r.exitCode !== 0) throw new BootmediaError("BM5404", `grub-mkimage -O ${target} failed: ${r.stderr.trim()}`);
  return readFile(out);
}
