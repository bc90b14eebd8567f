/**
 * The Debian packages files on this host come from (the boot loader's GRUB, the Secure Boot
 * chain's shim): dpkg's own database says which installed package owns a file and at which
 * version and architecture; apt's index gives the SHA-256 of that version's .deb. Read, not
 * guessed: a file dpkg does not own, or a version apt's index does not list, is left out
 * (its sha256 undefined), and callers say so.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../base/atomic-write.ts";
import { parseAptStanzas } from "./apt-index.ts";
import { runProgram } from "./program.ts";
import { which } from "./which.ts";

export interface HostDeb {
  name: string;
  version: string;
  arch: string;
  /** The .deb's SHA-256 from apt's index, when apt knows this version. */
  sha256?: string;
}

/** Whether dpkg-query is there to ask (not on a host without dpkg). */
const hostHasDpkg = () => which("dpkg-query") !== undefined;

/** Each path's owning package ("name" or "name:arch"), by one `dpkg-query -S`; unowned paths are absent. */
async function debOwners(paths: readonly string[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  if (paths.length === 0 || !hostHasDpkg()) return owners;
  const r = await runProgram("dpkg-query", ["-S", ...paths], { reject: false });
  for (const line of r.stdout.split("\n")) {
    // "pkg[:arch][, pkg2]: /path"; diversions ("diversion by …") are not ownership.
    const m = /^([^\s:,]+(?::[a-z0-9-]+)?)(?:, [^:]+)?: (\/.*)$/.exec(line);
    if (m && !line.startsWith("diversion ")) owners.set(m[2]!, m[1]!);
  }
  return owners;
}

/** Installed version and architecture of each package, and its .deb's sha256 from apt's index. */
export async function installedDebs(names: readonly string[]): Promise<HostDeb[]> {
  if (names.length === 0 || !hostHasDpkg()) return [];
  const r = await runProgram(
    "dpkg-query",
    ["-W", "-f", "${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n", ...names],
    { reject: false },
  );
  const debs: HostDeb[] = [];
  for (const line of r.stdout.split("\n")) {
    const [name, version, arch, status] = line.split("\t");
    if (name && version && arch && status?.startsWith("ii")) debs.push({ name, version, arch });
  }
  if (debs.length === 0 || which("apt-cache") === undefined) return debs;
  const show = await runProgram("apt-cache", ["show", ...debs.map((d) => `${d.name}:${d.arch}=${d.version}`)], {
    reject: false,
  });
  const index = parseAptStanzas(show.stdout);
  for (const d of debs) {
    const ref = index.get(`${d.name}:${d.arch}`);
    if (ref?.version === d.version && ref.sha256) d.sha256 = ref.sha256;
  }
  return debs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** dpkg's database: any package installed, removed or upgraded changes it. */
const DPKG_STATUS = "/var/lib/dpkg/status";

/**
 * debOwners + installedDebs, remembered in `cacheDir` under a key of the files' and dpkg's
 * database's stat identity (size, mtime, inode): a package change gives a new key, so a
 * cached answer is the one dpkg and apt would give now, without their second a build.
 */
export async function hostDebsOf(
  paths: readonly string[],
  cacheDir: string,
): Promise<{ owners: Map<string, string>; installed: HostDeb[] }> {
  const h = createHash("sha256");
  for (const p of [DPKG_STATUS, ...paths]) {
    const st = await stat(p).catch(() => undefined);
    h.update(`${p} ${st ? `${st.size} ${st.mtimeMs} ${st.ino}` : "-"}\n`);
  }
  const file = join(cacheDir, "host-debs", `${h.digest("hex").slice(0, 32)}.json`);
  const cached = await readFile(file, "utf8").then(
    (t) => JSON.parse(t) as { owners: Array<[string, string]>; installed: HostDeb[] },
    () => undefined,
  );
  if (cached) return { owners: new Map(cached.owners), installed: cached.installed };
  const owners = await debOwners(paths);
  const installed = await installedDebs([...new Set(owners.values())]);
  try {
    await mkdir(join(cacheDir, "host-debs"), { recursive: true });
    writeFileAtomic(file, JSON.stringify({ owners: [...owners], installed }));
  } catch {
    /* an unwritable cache only costs the lookup next time */
  }
  return { owners, installed };
}
