/** A content library for stand-alone media tests: the sample library, a small OS image with known strings, a task sequence. */
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { openSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootmedia, ROOT } from "../../../testing/cli.ts";

/** Written all over the OS image's root partition: it must never show on protected media. */
export const MARKER = "BOOTMEDIA-PLAINTEXT-MARKER-5d1e";

export interface TestLibrary {
  dir: string;
  library: string;
  image: string;
  /** Writes a spec beside the library; `extra` lines are appended as they are. */
  spec(name: string, target: string, extra?: string): Promise<string>;
}

/** 16 MiB GPT disk (ESP + x64 root), uncompressed so its bytes are on the media as they are unless encrypted. */
export async function testLibrary(steps = defaultSteps): Promise<TestLibrary> {
  const dir = await mkdtemp(join(tmpdir(), "bm-standalone-"));
  const library = join(dir, "lib");
  await cp(join(ROOT, "fixtures/content"), library, { recursive: true });
  const image = join(dir, "disk.raw");
  execFileSync("truncate", ["-s", "16M", image]);
  execFileSync(
    "sgdisk",
    ["-n", "1:2048:+4M", "-t", "1:ef00", "-n", "2:0:0", "-t", "2:4f68bce3-e8cd-4db1-96e7-fbcaf984b709", image],
    { stdio: "pipe" },
  );
  const fd = openSync(image, "r+");
  writeSync(fd, Buffer.from(`${MARKER} `.repeat(4000)), 0, undefined, 8 * 2 ** 20);
  closeSync(fd);
  const added = await bootmedia([
    "library",
    "add-os-image",
    library,
    "--image",
    image,
    "--arch",
    "x64",
    "--id",
    "OSI00001",
  ]);
  if (added.exitCode !== 0) throw new Error(`add-os-image: ${added.stderr}`);
  const ts = join(dir, "ts");
  await mkdir(ts);
  await writeFile(join(ts, "steps.yaml"), steps);
  const ok = await bootmedia(["library", "add", library, ts, "--type", "task-sequence", "--id", "TS000001"]);
  if (ok.exitCode !== 0) throw new Error(`library add: ${ok.stderr}`);
  return {
    dir,
    library,
    image,
    spec: async (name, target, extra = "") => {
      const file = join(dir, `${name}.yaml`);
      await writeFile(
        file,
        `name: ${name}\nbootImage: BM100001\ntaskSequence: TS000001\nmediaType: standalone\ncontentLibrary: lib\ntarget: ${target}\ncustomization: { variables: { OSDTimeZone: UTC } }\n${extra}`,
      );
      return file;
    },
  };
}

/**
 * A library whose one step copies BIG00002, a package of one file of `size` bytes that exists
 * only in its manifest: enough to plan (or be refused) without a byte of it.
 */
export async function bigPackageLibrary(size: number): Promise<TestLibrary> {
  const lib = await testLibrary(`steps:
  - { name: Copy, type: run-command, command: "true", package: BIG00002 }
`);
  const files = join(lib.library, "packages/BIG00002");
  await mkdir(files, { recursive: true });
  await writeFile(
    join(files, "package.json"),
    JSON.stringify({
      id: "BIG00002",
      type: "prestart",
      name: "big",
      version: "1",
      files: [{ path: "data/big.wim", size, sha256: "0".repeat(64) }],
    }),
  );
  return lib;
}

const defaultSteps = `steps:
  - { name: Choose the disk, type: select-disk }
  - { name: Apply the image, type: apply-image, package: OSI00001 }
  - { name: Restart into it, type: restart }
`;

/** The boot environment's way to read a package file (docs/standalone-media.md), as a script. */
export const DECRYPT_SCRIPT = join(ROOT, "plugins/standalone/testing/read-package.sh");
