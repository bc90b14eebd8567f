/**
 * Small GRUB-only media for the testbed's own tests and bench, independent of the real
 * media writers: `grub-mkrescue` builds a hybrid ISO (CD and USB stick) whose grub.cfg
 * plays the boot environment's part of the marker contract, down to the success exit
 * (GRUB's `outb` writes isa-debug-exit's port like the agent does).
 */
import { execa } from "execa";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Arch } from "../../core/compat.ts";

/** UEFI boot files grub-mkrescue puts on its ESP image, per bitness (boot.efi is for Macs). */
const EFI_FILES = { x86: ["bootia32.efi", "boot.efi"], x64: ["bootx64.efi"] } as const;
const ISO_BLOCK = 2048;

const GRUB_CFG = String.raw`serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
insmod iorw
if cpuid -l; then cpu64=true; else cpu64=false; fi
if [ "$grub_platform" = efi ]; then firmware=uefi; else firmware=bios; fi
arch=none
if [ "$cpu64" = true -a -f /boot/x64/vmlinuz ]; then arch=x64; elif [ -f /boot/x86/vmlinuz ]; then arch=x86; fi
if [ "$arch" = none ]; then
  echo 'BOOTMEDIA {"event":"error","reason":"needs-x64-cpu"}'
  halt
fi
echo "BOOTMEDIA {\"event\":\"booted\",\"arch\":\"$arch\",\"firmware\":\"$firmware\",\"cpu64\":$cpu64}"
echo 'BOOTMEDIA {"event":"done"}'
outb 0xf4 0x31
`;

/**
 * Builds `<dir>/<name>.iso` holding placeholder boot images for `images`, and UEFI boot
 * files only for those bitnesses (so a machine of the other bitness finds no boot file).
 */
export async function makeGrubTestMedia(dir: string, name: string, images: readonly Arch[]): Promise<string> {
  const root = join(dir, `${name}.tree`);
  await mkdir(join(root, "boot/grub"), { recursive: true });
  await writeFile(join(root, "boot/grub/grub.cfg"), GRUB_CFG);
  await mkdir(join(root, "bootmedia"), { recursive: true });
  await writeFile(join(root, "bootmedia/media.json"), JSON.stringify({ id: name, images }) + "\n");
  for (const arch of images) {
    await mkdir(join(root, "boot", arch), { recursive: true });
    await writeFile(join(root, "boot", arch, "vmlinuz"), `placeholder ${arch} kernel\n`);
  }
  const out = join(dir, `${name}.iso`);
  await execa("grub-mkrescue", ["--fonts=", "--locales=", "--themes=", "-o", out, root], {
    env: { SOURCE_DATE_EPOCH: "1700000000" },
  });
  await dropEfiBootFiles(
    out,
    (["x86", "x64"] as const).filter((a) => !images.includes(a)),
  );
  return out;
}

/**
 * grub-mkrescue always builds every installed platform; the boot files of the absent
 * bitnesses are deleted inside its ESP image (in place, so the El Torito entry and the
 * hybrid GPT partition, which both point at those bytes, stay valid).
 */
async function dropEfiBootFiles(iso: string, absent: readonly Arch[]): Promise<void> {
  if (absent.length === 0) return;
  const { stdout } = await execa("xorriso", ["-indev", iso, "-report_el_torito", "plain"], { stderr: "ignore" });
  const uefi = /El Torito boot img :\s+\d+\s+UEFI\s+\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\d+)/.exec(stdout);
  if (!uefi) throw new Error(`no UEFI El Torito image in ${iso}`);
  const esp = `${iso}@@${Number(uefi[1]) * ISO_BLOCK}`;
  for (const arch of absent) {
    for (const file of EFI_FILES[arch]) await execa("mdel", ["-i", esp, `::/efi/boot/${file}`]);
  }
}

/**
 * GRUB media standing in for a boot image without the bootmedia agent (an installer): it
 * prints `serialText` on the serial line only and `screenText` on the screen only, then
 * waits, as an installer at its first question does. No marker, no success exit.
 */
export async function makeGrubScreenMedia(
  dir: string,
  name: string,
  text: { serial: string; screen: string },
): Promise<string> {
  const root = join(dir, `${name}.tree`);
  await mkdir(join(root, "boot/grub"), { recursive: true });
  await writeFile(
    join(root, "boot/grub/grub.cfg"),
    [
      "serial --unit=0 --speed=115200",
      "terminal_output serial",
      `echo "${text.serial}"`,
      "terminal_output console",
      `echo "${text.screen}"`,
      "sleep 600",
      "",
    ].join("\n"),
  );
  await mkdir(join(root, "bootmedia"), { recursive: true });
  await writeFile(join(root, "bootmedia/media.json"), JSON.stringify({ id: name, images: ["x64"] }) + "\n");
  const out = join(dir, `${name}.iso`);
  await execa("grub-mkrescue", ["--fonts=", "--locales=", "--themes=", "-o", out, root], {
    env: { SOURCE_DATE_EPOCH: "1700000000" },
  });
  return out;
}
