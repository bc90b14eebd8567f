/**
 * The installed tree: mmdebstrap installs the recipe's packages (apt verifies every .deb
 * against the suites' signed indexes) into a folder, as root. The .debs are kept in a cache
 * folder between builds (mmdebstrap's documented sync-in/sync-out pattern), and the list of
 * installed packages comes out of the tree with dpkg-query.
 */
import { mkdir, readFile } from "node:fs/promises";
import { BootmediaError } from "../../base/errors.ts";
import { runProgram } from "../../core/program.ts";
import { removeTree } from "./tree-mounts.ts";
import { DPKG_EXCLUDES } from "./config.ts";
import "./codes.ts";

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
}

interface BootstrapOptions {
  suite: string;
  sources: readonly string[];
  debArch: string;
  packages: readonly string[];
  tree: string;
  debCache: string;
  sourceDateEpoch: number;
  log: (line: string) => void;
}

/** A shell word: hooks are shell commands, and the cache folder may hold spaces. */
const shq = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** mmdebstrap's arguments (a hook is a shell command; "$1" is the tree). */
function mmdebstrapArgs(o: BootstrapOptions, listFile: string): string[] {
  return [
    "--mode=root",
    "--variant=apt",
    `--arch=${o.debArch}`,
    `--include=${o.packages.join(",")}`,
    '--aptopt=Acquire::Retries "3"',
    ...DPKG_EXCLUDES.map((x) => `--dpkgopt=${x}`),
    // The initramfs loads every storage driver (NVMe, virtio, AHCI, ...): set before the kernel installs.
    `--essential-hook=mkdir -p "$1/etc/initramfs-tools/conf.d" && echo MODULES=most > "$1/etc/initramfs-tools/conf.d/bootmedia.conf"`,
    "--skip=download/empty",
    "--skip=essential/unlink",
    `--setup-hook=mkdir -p "$1/var/cache/apt/archives/"`,
    `--setup-hook=sync-in ${shq(o.debCache)} /var/cache/apt/archives/`,
    `--customize-hook=sync-out /var/cache/apt/archives ${shq(o.debCache)}`,
    `--customize-hook=chroot "$1" dpkg-query -W -f='\${Package}\\t\${Version}\\t\${Architecture}\\n' > ${shq(listFile)}`,
    `--customize-hook=rm -f "$1"/var/cache/apt/archives/*.deb`,
    o.suite,
    o.tree,
    ...o.sources,
  ];
}

/** Runs mmdebstrap into `o.tree` (emptied first); returns the installed packages. */
export async function bootstrapTree(o: BootstrapOptions): Promise<InstalledPackage[]> {
  await removeTree(o.tree);
  await mkdir(o.debCache, { recursive: true });
  const listFile = `${o.tree}.packages.tsv`;
  o.log(`mmdebstrap ${o.suite} ${o.debArch}: ${o.packages.join(", ")}`);
  const proc = runProgram("mmdebstrap", mmdebstrapArgs(o, listFile), {
    reject: false,
    all: true,
    env: { SOURCE_DATE_EPOCH: String(o.sourceDateEpoch), LC_ALL: "C.UTF-8" },
  });
  const r = await proc;
  if (r.exitCode !== 0) {
    const tail = String(r.all ?? "")
      .trim()
      .split("\n")
      .slice(-15)
      .join("\n");
    throw new BootmediaError("BM2602", `mmdebstrap exited ${r.exitCode}:\n${tail}`, { where: o.tree });
  }
  return parsePackageList(await readFile(listFile, "utf8"));
}

function parsePackageList(text: string): InstalledPackage[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name, version, arch] = line.split("\t");
      return { name: name!, version: version!, arch: arch! };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
