/**
 * `os-image build` end to end: the x64 and x86 Debian images (built once, then cached under
 * $BOOTMEDIA_CACHE like every build) read by independent tools — sfdisk -J, sgdisk -v,
 * fsck.ext4 -n, fsck.fat -n, mdir. Booting them is testbed/deploy.e2e.test.ts's: each image is
 * deployed by the product and booted from the disk alone (x64 on BIOS, UEFI and UEFI with
 * Secure Boot; x86 on BIOS), where the first boot also grows the root to the disk.
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOsImage, type OsImageBuildResult } from "./build-os-image.ts";
import { ARCH_IMAGE_RECIPES, PARTITION_TYPES } from "./config.ts";

const cache = process.env.BOOTMEDIA_CACHE ?? join(homedir(), ".cache/bootmedia");
let work: string;
let built: OsImageBuildResult;
let raw: string;

/** Copies `length` bytes at `offset` of `file` into a file of their own (fsck.fat has no offset option). */
async function extract(file: string, offset: number, length: number, out: string): Promise<void> {
  const src = await open(file, "r");
  const dst = await open(out, "w");
  const buf = Buffer.alloc(1024 * 1024);
  for (let done = 0; done < length; ) {
    const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, length - done), offset + done);
    await dst.write(buf, 0, bytesRead, done);
    done += bytesRead;
  }
  await src.close();
  await dst.close();
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-os-image-e2e-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("os-image build: Debian 12 x64", () => {
  beforeAll(async () => {
    built = await buildOsImage({
      distro: "debian-12",
      arch: "x64",
      library: join(cache, "os-image-e2e-library"),
      workDir: join(cache, "os-image-build"),
      log: (l) => console.log(l),
    });
    raw = join(work, "image.raw");
    const file = join(built.packageDir, "files", built.manifest.osImage.image);
    await execa("zstd", ["-d", "-q", "-f", "-o", raw, file]);
  }, 1_800_000);

  it("is a GPT disk sfdisk and sgdisk read as the manifest says, with clean filesystems", async () => {
    const m = built.manifest.osImage;
    const { stdout: sha } = await execa("sha256sum", [raw]);
    expect(sha.split(" ")[0]).toBe(m.sha256);
    const table = JSON.parse((await execa("sfdisk", ["-J", raw])).stdout).partitiontable;
    expect(table.label).toBe("gpt");
    expect(
      table.partitions.map((p: { start: number; size: number; type: string }) => [
        p.start * 512,
        p.size * 512,
        p.type.toLowerCase(),
      ]),
    ).toEqual([
      [1024 ** 2, 1024 ** 2, PARTITION_TYPES.biosBoot],
      [2 * 1024 ** 2, 64 * 1024 ** 2, PARTITION_TYPES.esp],
      [66 * 1024 ** 2, m.size - 67 * 1024 ** 2, ARCH_IMAGE_RECIPES.x64.rootType],
    ]);
    expect(m.partitions.map((p) => [p.start, p.size, p.type])).toEqual(
      table.partitions.map((p: { start: number; size: number; type: string }) => [
        p.start * 512,
        p.size * 512,
        p.type.toLowerCase(),
      ]),
    );
    const v = await execa("sgdisk", ["-v", raw], { reject: false });
    expect(v.stdout).toContain("No problems found");
    const root = m.partitions[m.rootPartition - 1]!;
    const fsck = await execa("fsck.ext4", ["-fn", `${raw}?offset=${root.start}`], { reject: false });
    expect(fsck.exitCode, fsck.stdout + fsck.stderr).toBe(0);
    const esp = join(work, "esp.img");
    await extract(raw, m.partitions[1]!.start, m.partitions[1]!.size, esp);
    const fat = await execa("fsck.fat", ["-n", esp], { reject: false });
    expect(fat.exitCode, fat.stdout).toBe(0);
    const dir = (await execa("mdir", ["-i", esp, "-/", "-b", "::/EFI"])).stdout;
    for (const f of ["BOOT/BOOTX64.EFI", "BOOT/grubx64.efi", "BOOT/mmx64.efi", "debian/grub.cfg"])
      expect(dir.toLowerCase()).toContain(`::/efi/${f}`.toLowerCase());
    expect(m.size).toBeLessThanOrEqual(1.5 * 1024 ** 3);
  });
});

describe("os-image build: Debian 12 x86", () => {
  let x86: OsImageBuildResult;
  let x86raw: string;
  beforeAll(async () => {
    x86 = await buildOsImage({
      distro: "debian-12",
      arch: "x86",
      library: join(cache, "os-image-e2e-library"),
      workDir: join(cache, "os-image-build"),
      log: (l) => console.log(l),
    });
    x86raw = join(work, "x86.raw");
    await execa("zstd", ["-d", "-q", "-f", "-o", x86raw, join(x86.packageDir, "files", x86.manifest.osImage.image)]);
  }, 1_800_000);

  it("has the x86 root type and clean filesystems", async () => {
    const m = x86.manifest.osImage;
    const table = JSON.parse((await execa("sfdisk", ["-J", x86raw])).stdout).partitiontable;
    expect(table.partitions[2].type.toLowerCase()).toBe(ARCH_IMAGE_RECIPES.x86.rootType);
    expect((await execa("sgdisk", ["-v", x86raw])).stdout).toContain("No problems found");
    const fsck = await execa("fsck.ext4", ["-fn", `${x86raw}?offset=${m.partitions[2]!.start}`], { reject: false });
    expect(fsck.exitCode, fsck.stdout + fsck.stderr).toBe(0);
    const esp = join(work, "esp86.img");
    await extract(x86raw, m.partitions[1]!.start, m.partitions[1]!.size, esp);
    expect((await execa("fsck.fat", ["-n", esp], { reject: false })).exitCode).toBe(0);
    expect((await execa("mdir", ["-i", esp, "-/", "-b", "::/EFI"])).stdout.toLowerCase()).toContain(
      "::/efi/boot/bootia32.efi",
    );
  });
});
