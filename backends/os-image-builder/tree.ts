/**
 * Turns mmdebstrap's tree into the installed OS: bootmedia's first-boot units (image-files/),
 * networking by DHCP, fstab and GRUB's config by the disk's UUIDs, no apt lists, caches or
 * logs, a machine-id left for the first boot, and every timestamp clamped to the build's
 * SOURCE_DATE_EPOCH (maintainer scripts stamp the build's own time on what they write).
 */
import { existsSync } from "node:fs";
import { chmod, copyFile, lstat, lutimes, mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { packagePath } from "../../base/package-root.ts";
import { DEFAULT_HOSTNAME, STRIP_PATHS } from "./config.ts";

/** image-files/ of this folder: shipped beside the code (package.json "files" carries backends/). */
export const IMAGE_FILES_DIR = packagePath("backends/os-image-builder/image-files");

const LIB = "usr/local/lib/bootmedia";
/** Source file in image-files/ → path in the tree, mode. */
export const IMAGE_FILES: ReadonlyArray<readonly [string, string, number]> = [
  ["facts.sh", `${LIB}/facts.sh`, 0o644],
  ["bootmedia-installed-os", `${LIB}/bootmedia-installed-os`, 0o755],
  ["bootmedia-report", `${LIB}/bootmedia-report`, 0o755],
  ["bootmedia-growroot", `${LIB}/bootmedia-growroot`, 0o755],
  ["bootmedia-installed-os.service", "etc/systemd/system/bootmedia-installed-os.service", 0o644],
  ["bootmedia-report.service", "etc/systemd/system/bootmedia-report.service", 0o644],
  ["bootmedia-growroot.service", "etc/systemd/system/bootmedia-growroot.service", 0o644],
  ["80-bootmedia-dhcp.network", "etc/systemd/network/80-bootmedia-dhcp.network", 0o644],
];

/** What `systemctl enable` would link: our units and systemd-networkd (with its socket and wait-online). */
const ENABLE_LINKS: ReadonlyArray<readonly [string, string]> = [
  ...["bootmedia-installed-os", "bootmedia-report", "bootmedia-growroot"].map(
    (u) => [`etc/systemd/system/multi-user.target.wants/${u}.service`, `/etc/systemd/system/${u}.service`] as const,
  ),
  [
    "etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
    "/lib/systemd/system/systemd-networkd.service",
  ],
  ["etc/systemd/system/dbus-org.freedesktop.network1.service", "/lib/systemd/system/systemd-networkd.service"],
  ["etc/systemd/system/sockets.target.wants/systemd-networkd.socket", "/lib/systemd/system/systemd-networkd.socket"],
  [
    "etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service",
    "/lib/systemd/system/systemd-networkd-wait-online.service",
  ],
];

interface TreeSettings {
  rootFsUuid: string;
  /** The ESP's FAT serial, XXXX-XXXX. */
  espSerial: string;
  grubConfig: string;
}

async function put(tree: string, rel: string, text: string, mode = 0o644): Promise<void> {
  const file = join(tree, rel);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  await chmod(file, mode);
}

export async function customizeTree(tree: string, s: TreeSettings): Promise<void> {
  for (const [src, dest, mode] of IMAGE_FILES) {
    await mkdir(dirname(join(tree, dest)), { recursive: true });
    await copyFile(join(IMAGE_FILES_DIR, src), join(tree, dest));
    await chmod(join(tree, dest), mode);
  }
  for (const [link, target] of ENABLE_LINKS) {
    await mkdir(dirname(join(tree, link)), { recursive: true });
    await rm(join(tree, link), { force: true });
    await symlink(target, join(tree, link));
  }
  await put(
    tree,
    "etc/fstab",
    `# bootmedia os-image build: root and ESP by UUID\nUUID=${s.rootFsUuid} / ext4 errors=remount-ro 0 1\nUUID=${s.espSerial} /boot/efi vfat umask=0077,nofail 0 0\n`,
  );
  await mkdir(join(tree, "boot/efi"), { recursive: true });
  await put(tree, "etc/hostname", `${DEFAULT_HOSTNAME}\n`);
  await put(
    tree,
    "etc/hosts",
    `127.0.0.1\tlocalhost\n127.0.1.1\t${DEFAULT_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
  );
  // systemd-firstboot would stop the first boot to ask for a locale, a time zone and a root
  // password on the console: masked (no question on an unattended deployment).
  await rm(join(tree, "etc/systemd/system/systemd-firstboot.service"), { force: true });
  await symlink("/dev/null", join(tree, "etc/systemd/system/systemd-firstboot.service"));
  // systemd's first-boot state: a new machine-id is drawn on the machine (machine-id(5)).
  await put(tree, "etc/machine-id", "uninitialized\n", 0o444);
  await rm(join(tree, "var/lib/dbus/machine-id"), { force: true });
  await put(tree, "boot/grub/grub.cfg", s.grubConfig);
  await mkdir(join(tree, "var/lib/bootmedia"), { recursive: true });
  await chmod(join(tree, "var/lib/bootmedia"), 0o700);
}

/** Removes STRIP_PATHS (a trailing `*` matches a name prefix) and the initramfs backups. */
export async function stripTree(tree: string): Promise<void> {
  for (const p of STRIP_PATHS) {
    if (p.endsWith("*")) {
      const dir = join(tree, dirname(p));
      const prefix = p.slice(p.lastIndexOf("/") + 1, -1);
      if (!existsSync(dir)) continue;
      for (const name of await readdir(dir)) if (name.startsWith(prefix)) await rm(join(dir, name), { force: true });
    } else {
      await rm(join(tree, p), { recursive: true, force: true });
    }
  }
  for (const name of await readdir(join(tree, "boot")))
    if (name.endsWith(".dpkg-bak")) await rm(join(tree, "boot", name), { force: true });
  // apt expects its folders to exist.
  await mkdir(join(tree, "var/lib/apt/lists/partial"), { recursive: true });
  await mkdir(join(tree, "var/cache/apt/archives/partial"), { recursive: true });
}

/** Sets every file's atime and mtime newer than `epoch` to `epoch` (symlinks themselves, not their targets). */
export async function clampTimes(tree: string, epoch: number): Promise<number> {
  let clamped = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      const st = await lstat(p);
      if (st.mtimeMs / 1000 > epoch || st.atimeMs / 1000 > epoch) {
        await lutimes(p, Math.min(st.atimeMs / 1000, epoch), Math.min(st.mtimeMs / 1000, epoch));
        clamped++;
      }
    }
  };
  await walk(tree);
  const st = await lstat(tree);
  await lutimes(tree, Math.min(st.atimeMs / 1000, epoch), Math.min(st.mtimeMs / 1000, epoch));
  return clamped;
}
