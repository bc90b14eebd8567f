/**
 * Boot smoke tests (end-to-end, QEMU under TCG): a GRUB-based image built with our writer
 * must reach grub.cfg on the ISO 9660 file system and print a marker on the serial line —
 * BIOS from CD-ROM, UEFI (OVMF) from CD-ROM, and BIOS and UEFI booting the same file as a hard disk (hybrid).
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TreeEntry } from "../../base/tree.ts";
import { writeIso } from "./write.ts";

const MARKER = "BOOTMEDIA-ISO-SMOKE-OK";
const TIMEOUT_MS = 60_000;
const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd";
const OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd";
/** Finds the media by a file only it holds, so the same config works from CD and disk, BIOS and UEFI. */
const EARLY_CFG = "search --no-floppy --file --set=root /boot/grub/grub.cfg\nset prefix=($root)/boot/grub\n";
const GRUB_CFG = `serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\necho ${MARKER}\nsleep 30\n`;
const MODULES = [
  "iso9660",
  "normal",
  "configfile",
  "echo",
  "serial",
  "terminal",
  "search",
  "search_fs_file",
  "sleep",
  "part_msdos",
  "part_gpt",
  "fat",
];

let work: string;
let iso: string;

async function buildMedia(dir: string): Promise<string> {
  const early = join(dir, "early.cfg");
  await writeFile(early, EARLY_CFG);
  const eltorito = join(dir, "eltorito.img");
  await execa("grub-mkimage", [
    "-O",
    "i386-pc-eltorito",
    "-p",
    "/boot/grub",
    "-c",
    early,
    "-o",
    eltorito,
    "biosdisk",
    ...MODULES,
  ]);
  const efi = join(dir, "BOOTX64.EFI");
  await execa("grub-mkimage", ["-O", "x86_64-efi", "-p", "/boot/grub", "-c", early, "-o", efi, ...MODULES]);
  const esp = join(dir, "efi.img");
  await execa("mkfs.fat", ["-C", "-n", "ESP", esp, "4096"]);
  await execa("mmd", ["-i", esp, "::/EFI", "::/EFI/BOOT"]);
  await execa("mcopy", ["-i", esp, efi, "::/EFI/BOOT/BOOTX64.EFI"]);
  const file = async (path: string, src: string): Promise<TreeEntry> => ({
    type: "file",
    path,
    size: (await readFile(src)).length,
    source: { kind: "file", path: src },
  });
  const cfg = Buffer.from(GRUB_CFG);
  const entries: TreeEntry[] = [
    await file("boot/grub/i386-pc/eltorito.img", eltorito),
    await file("boot/efi.img", esp),
    { type: "file", path: "boot/grub/grub.cfg", size: cfg.length, source: { kind: "bytes", data: cfg } },
  ];
  const out = join(dir, "smoke.iso");
  await writeIso(
    entries,
    {
      volumeId: "BOOTMEDIA_SMOKE",
      sourceDateEpoch: 1_700_000_000,
      boot: { bios: { image: "boot/grub/i386-pc/eltorito.img" }, efi: { image: "boot/efi.img" } },
      hybrid: { mbrCode: await readFile("/usr/lib/grub/i386-pc/boot_hybrid.img") },
    },
    out,
  );
  return out;
}

/** Boots QEMU (TCG, never KVM) and resolves with the serial output once the marker shows or the timeout hits. */
async function bootUntilMarker(args: string[]): Promise<{ found: boolean; serial: string }> {
  const qemu = execa(
    "qemu-system-x86_64",
    [
      "-machine",
      "accel=tcg",
      "-m",
      "256",
      "-display",
      "none",
      "-monitor",
      "none",
      "-serial",
      "stdio",
      "-no-reboot",
      ...args,
    ],
    { reject: false, buffer: false },
  );
  let serial = "";
  return await new Promise((resolve) => {
    const finish = (found: boolean) => {
      clearTimeout(timer);
      qemu.kill("SIGKILL");
      resolve({ found, serial });
    };
    const timer = setTimeout(() => finish(false), TIMEOUT_MS);
    qemu.stdout!.on("data", (d: Buffer) => {
      serial += d.toString("latin1");
      if (serial.includes(MARKER)) finish(true);
    });
    qemu.on("exit", () => finish(serial.includes(MARKER)));
  });
}

const CASES = [
  { name: "bios-cdrom", args: (iso: string) => ["-cdrom", iso, "-boot", "d"] },
  {
    name: "bios-disk (hybrid MBR)",
    args: (iso: string) => ["-drive", `file=${iso},format=raw,if=ide,snapshot=on`, "-boot", "c"],
  },
  { name: "uefi-cdrom", uefi: true, args: (iso: string) => ["-cdrom", iso] },
  {
    name: "uefi-disk (hybrid ESP partition)",
    uefi: true,
    args: (iso: string) => ["-drive", `file=${iso},format=raw,if=ide,snapshot=on`],
  },
] as const;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-iso-e2e-"));
  iso = await buildMedia(work);
}, 60_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("boot smoke (QEMU, TCG)", () => {
  it.each(CASES)(
    "$name reaches grub.cfg and prints the marker",
    async (c) => {
      const extra: string[] = [];
      if ("uefi" in c && c.uefi) {
        const vars = join(work, `vars-${c.name.split(" ")[0]}.fd`);
        await copyFile(OVMF_VARS, vars);
        extra.push(
          "-drive",
          `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`,
          "-drive",
          `if=pflash,format=raw,file=${vars}`,
        );
      }
      const res = await bootUntilMarker([...extra, ...c.args(iso)]);
      expect(res.found, `serial output:\n${res.serial.slice(-2000)}`).toBe(true);
    },
    TIMEOUT_MS + 20_000,
  );
});
