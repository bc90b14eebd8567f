/**
 * A content library for stand-alone media in QEMU: the reference x64 boot image, `os-image
 * build`'s Debian 12 (x64; built once, then from the cache) and a task sequence TS000001 with
 * the given steps. Packages are hard links, never copies.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { buildOsImage } from "../../backends/os-image-builder/build-os-image.ts";
import { REFERENCE_LIBRARY_DIR } from "../../fixtures/boot-images/build.ts";
import { bootmedia } from "../../testing/cli.ts";

const cache = process.env.BOOTMEDIA_CACHE ?? join(homedir(), ".cache/bootmedia");

/** `dir`/lib with the three packages; `steps` gets the OS image's package id and returns steps.yaml. */
export async function debianStandaloneLibrary(dir: string, steps: (osImage: string) => string): Promise<string> {
  // The library os-image.e2e.test.ts and deploy.e2e.test.ts build too (locked): one build, the others take it.
  const osLibrary = join(cache, "os-image-e2e-library");
  const os = await buildOsImage({
    distro: "debian-12",
    arch: "x64",
    library: osLibrary,
    workDir: join(cache, "os-image-build"),
    log: () => undefined,
  });
  const lib = join(dir, "lib");
  await mkdir(join(lib, "packages"), { recursive: true });
  for (const [from, id] of [
    [REFERENCE_LIBRARY_DIR, "BM100064"],
    [osLibrary, os.manifest.id],
  ] as const)
    await execa("cp", ["-rl", join(from, "packages", id), join(lib, "packages", id)]);
  const ts = join(dir, "ts");
  await mkdir(ts, { recursive: true });
  await writeFile(join(ts, "steps.yaml"), steps(os.manifest.id));
  const added = await bootmedia(["library", "add", lib, ts, "--type", "task-sequence", "--id", "TS000001"]);
  if (added.exitCode !== 0) throw new Error(`library add: ${added.stderr}`);
  return lib;
}
