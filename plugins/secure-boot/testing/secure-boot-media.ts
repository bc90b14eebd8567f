/**
 * Small x64 UEFI ISOs for the Secure Boot profiles, one per chain of core/secure-boot.ts, with
 * a GRUB-only marker config (the contract of testbed/testing/media.ts):
 *   - unsigned: GRUB from grub-mkimage (modules embedded), as bootmedia's media carry today;
 *   - own-key:  the same GRUB signed with sbsign and the given key (the snakeoil key in tests);
 *   - signed:   Debian's shim (Microsoft-signed) as BOOTX64.EFI and Debian-signed GRUB (the
 *               CD build, gcdx64.efi.signed) as grubx64.efi beside it; that GRUB finds the media
 *               by /.disk/info and reads /boot/grub/grub.cfg (its embedded early config).
 */
import { execa } from "execa";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SbChain } from "../../../core/secure-boot.ts";

/** What the GRUB-only media report when Secure Boot accepted them: GRUB has no success exit under lockdown. */
const GRUB_LOCKDOWN_REASON = "grub-lockdown-no-exit";

const DEBIAN_SIGNED_EFI = {
  shim: "/usr/lib/shim/shimx64.efi.signed",
  /** The CD flavour: prefix /boot/grub, finds the media by /.disk/info. */
  grubCd: "/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed",
} as const;

/**
 * The marker config for Secure Boot media. A GRUB started under Secure Boot is locked down
 * (GRUB sets $lockdown=y): it refuses `outb`, so it cannot give the success exit; it says so
 * with a marker after "booted", which proves the firmware (and shim) accepted the chain.
 * The JSON goes in single quotes, "$lockdown" between them (GRUB joins adjacent quoted words).
 */
const SB_GRUB_CFG = String.raw`serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
echo 'BOOTMEDIA {"event":"booted","arch":"x64","firmware":"uefi","lockdown":"'"$lockdown"'"}'
if [ "$lockdown" = y ]; then
  echo 'BOOTMEDIA {"event":"error","reason":"${GRUB_LOCKDOWN_REASON}"}'
  halt
fi
insmod iorw
echo 'BOOTMEDIA {"event":"done"}'
outb 0xf4 0x31
`;

/** Modules embedded in the test GRUB: signed or locked down, it loads none from the media. */
const GRUB_MODULES = [
  "normal",
  "configfile",
  "echo",
  "test",
  "cpuid",
  "iorw",
  "halt",
  "serial",
  "terminal",
  "iso9660",
  "part_gpt",
  "part_msdos",
  "fat",
  "search",
  "search_fs_file",
];

interface SigningKey {
  key: string;
  cert: string;
  password?: string;
}

/** An unencrypted copy of the key for sbsign, which asks a terminal for a password otherwise. */
async function plainKey(k: SigningKey, dir: string): Promise<string> {
  if (!k.password) return k.key;
  const out = join(dir, "signing.key");
  await execa("openssl", ["pkey", "-in", k.key, "-passin", `pass:${k.password}`, "-out", out]);
  return out;
}

/** Builds `<dir>/<name>.iso` whose x64 UEFI boot files form `chain`; `key` signs the own-key chain. */
export async function makeSecureBootTestMedia(
  dir: string,
  name: string,
  chain: SbChain,
  key?: SigningKey,
): Promise<string> {
  const work = join(dir, `${name}.sb`);
  const root = join(work, "root");
  await mkdir(join(root, "boot/grub"), { recursive: true });
  await mkdir(join(root, ".disk"), { recursive: true });
  await mkdir(join(root, "bootmedia"), { recursive: true });
  await mkdir(join(root, "boot/x64"), { recursive: true });
  await writeFile(join(root, "boot/grub/grub.cfg"), SB_GRUB_CFG);
  await writeFile(join(root, ".disk/info"), `bootmedia Secure Boot test media (${chain})\n`);
  await writeFile(
    join(root, "bootmedia/media.json"),
    JSON.stringify({ id: name, images: [{ arch: "x64", drivers: ["e1000"] }] }) + "\n",
  );
  await writeFile(join(root, "boot/x64/vmlinuz"), "placeholder x64 kernel\n");

  const efi: Record<string, string> = {};
  if (chain === "signed") {
    efi["BOOTX64.EFI"] = DEBIAN_SIGNED_EFI.shim;
    efi["grubx64.efi"] = DEBIAN_SIGNED_EFI.grubCd;
    // Without Secure Boot the signed GRUB loads modules from $prefix: give it iorw for the success exit.
    await mkdir(join(root, "boot/grub/x86_64-efi"), { recursive: true });
    await copyFile("/usr/lib/grub/x86_64-efi/iorw.mod", join(root, "boot/grub/x86_64-efi/iorw.mod"));
  } else {
    const grub = join(work, "grubx64.efi");
    await execa("grub-mkimage", ["-O", "x86_64-efi", "-p", "/boot/grub", "-o", grub, ...GRUB_MODULES]);
    if (chain === "own-key") {
      if (!key) throw new Error("the own-key chain needs a signing key");
      await execa(
        "sbsign",
        ["--key", await plainKey(key, work), "--cert", key.cert, "--output", `${grub}.signed`, grub],
        { stdin: "ignore" },
      );
      efi["BOOTX64.EFI"] = `${grub}.signed`;
    } else {
      efi["BOOTX64.EFI"] = grub;
    }
  }
  const esp = join(root, "boot/efi.img");
  await execa("mkfs.fat", ["-C", "-n", "ESP", esp, "8192"]);
  await execa("mmd", ["-i", esp, "::/EFI", "::/EFI/BOOT"]);
  for (const [file, src] of Object.entries(efi)) {
    await copyFile(src, join(work, file));
    await execa("mcopy", ["-i", esp, join(work, file), `::/EFI/BOOT/${file}`]);
  }
  const out = join(dir, `${name}.iso`);
  await execa(
    "xorriso",
    ["-as", "mkisofs", "-quiet", "-R", "-J", "-V", "SBTEST", "-e", "boot/efi.img", "-no-emul-boot", "-o", out, root],
    { env: { SOURCE_DATE_EPOCH: "1700000000" } },
  );
  return out;
}
