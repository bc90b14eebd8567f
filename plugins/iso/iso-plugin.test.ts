import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { hashTree } from "../../testing/tree-hash.ts";
import { bootmedia, scratchFixtures, ROOT } from "../../testing/cli.ts";

const run = promisify(execFile);
let fx: Awaited<ReturnType<typeof scratchFixtures>>;
const env = (extra: Record<string, string> = {}) => ({
  BOOTMEDIA_CACHE: fx.cache,
  SOURCE_DATE_EPOCH: "1764000000",
  ...extra,
});
const isoArgs = (name: string, ...more: string[]) => [
  "build",
  fx.spec("sample-dir.yaml"),
  "--target",
  "iso",
  "--out",
  fx.out(name),
  "--quiet",
  ...more,
];

/** Every file of an ISO, extracted by xorriso (the independent reader). */
async function extractIso(iso: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bm-osirrox-"));
  await run("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", dir], { maxBuffer: 1 << 24 });
  return dir;
}

beforeAll(async () => {
  fx = await scratchFixtures();
});

describe("iso target", () => {
  it("holds exactly the directory target's tree (read back by xorriso), BIOS and UEFI El Torito entries and the ESP with the EFI loader", async () => {
    expect(
      (await bootmedia(["build", fx.spec("sample-dir.yaml"), "--out", fx.out("tree"), "--quiet"], { env: env() }))
        .exitCode,
    ).toBe(0);
    const r = await bootmedia(isoArgs("media.iso"), { env: env() });
    expect(r.exitCode, r.stderr).toBe(0);
    const iso = fx.out("media.iso");
    const extracted = await hashTree(await extractIso(iso));
    // The El Torito image carries the ISO's boot-info table (its LBA and checksum), so it differs from the folder's copy.
    // The manifest of an ISO leaves that image out (media-manifest-plugin.ts): compared below without it.
    const {
      "boot/efi.img": esp,
      "boot/grub/i386-pc/eltorito.img": torito1,
      "bootmedia/manifest.json": isoManifest,
      ...rest
    } = extracted;
    const {
      "boot/grub/i386-pc/eltorito.img": torito2,
      "bootmedia/manifest.json": treeManifest,
      ...tree
    } = await hashTree(fx.out("tree"));
    expect(esp).toBeDefined();
    expect(torito1 && torito2 && isoManifest && treeManifest).toBeDefined();
    expect(rest).toEqual(tree);
    const manifestOf = async (path: string) =>
      JSON.parse(await readFile(path, "utf8")) as { files: Array<{ path: string }> };
    const isoDir = await extractIso(iso);
    const fromTree = await manifestOf(join(fx.out("tree"), "bootmedia/manifest.json"));
    expect(await manifestOf(join(isoDir, "bootmedia/manifest.json"))).toEqual({
      ...fromTree,
      files: fromTree.files.filter((f) => f.path !== "boot/grub/i386-pc/eltorito.img"),
    });

    const torito = (await run("xorriso", ["-indev", iso, "-report_el_torito", "plain"])).stdout;
    expect(torito).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y\s+none/);
    expect(torito).toMatch(/El Torito img path :\s+1\s+\/boot\/grub\/i386-pc\/eltorito\.img/);
    expect(torito).toMatch(/El Torito boot img :\s+2\s+UEFI\s+y\s+none/);
    expect(torito).toMatch(/El Torito img path :\s+2\s+\/boot\/efi\.img/);
    const names = (await run("isoinfo", ["-R", "-f", "-i", iso])).stdout;
    expect(names).toContain("/bootmedia/prestart/check.sh");
    const joliet = (await run("isoinfo", ["-J", "-f", "-i", iso])).stdout;
    expect(joliet).toContain("/bootmedia/media.json");

    const espDir = await mkdtemp(join(tmpdir(), "bm-esp-"));
    await run("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/boot/efi.img", join(espDir, "efi.img")]);
    await run("mcopy", ["-s", "-n", "-i", join(espDir, "efi.img"), "::/EFI", espDir], {
      env: { ...process.env, MTOOLS_SKIP_CHECK: "1" },
    });
    // The EFI loader is bootmedia's GRUB build, the same bytes as the tree's copy (oracle: file says what it is).
    const loader = await readFile(join(fx.out("tree"), "EFI/BOOT/BOOTX64.EFI"));
    expect(Buffer.compare(await readFile(join(espDir, "EFI/BOOT/BOOTX64.EFI")), loader)).toBe(0);
    expect((await run("file", ["-b", join(espDir, "EFI/BOOT/BOOTX64.EFI")])).stdout).toMatch(
      /PE32\+ executable \(EFI application\) x86-64/,
    );

    const inspected = JSON.parse((await bootmedia(["inspect", iso, "--json"])).stdout);
    expect(inspected).toMatchObject({
      kind: "iso",
      volumeId: "CONTOSO_X64",
      bootEntries: [expect.objectContaining({ platform: "bios" }), expect.objectContaining({ platform: "efi" })],
    });
    expect(inspected.config.taskSequence).toBe("BM200010");
  });

  it("is byte-identical for two builds with the same SOURCE_DATE_EPOCH", async () => {
    expect((await bootmedia(isoArgs("a.iso"), { env: env() })).exitCode).toBe(0);
    expect((await bootmedia(isoArgs("b.iso"), { env: env() })).exitCode).toBe(0);
    expect(Buffer.compare(await readFile(fx.out("a.iso")), await readFile(fx.out("b.iso")))).toBe(0);
  });

  it("splits content over numbered volumes when the capacity is too small, and parts reassemble", async () => {
    const extra = join(fx.dir, "extra");
    await mkdir(extra, { recursive: true });
    const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
    await writeFile(join(extra, "app1.bin"), bytes(3 * 1024 * 1024, 1));
    await writeFile(join(extra, "app2.bin"), bytes(3 * 1024 * 1024, 2));
    await writeFile(join(extra, "driverpack.bin"), bytes(20 * 1024 * 1024, 3));
    const capacity = String(8 * 1024 * 1024);
    const plugin = join(ROOT, "fixtures/plugins/extra-content.mjs");
    const e = env({ BOOTMEDIA_EXTRA_CONTENT: extra });

    const plan = JSON.parse(
      (
        await bootmedia(
          [
            "plan",
            fx.spec("sample-dir.yaml"),
            "--target",
            "iso",
            "--out",
            fx.out("set.iso"),
            "--capacity",
            capacity,
            "--plugin",
            plugin,
            "--json",
          ],
          { env: e },
        )
      ).stdout,
    );
    expect(plan.volumes.length).toBeGreaterThan(2);

    const r = await bootmedia([...isoArgs("set.iso", "--capacity", capacity, "--plugin", plugin)], { env: e });
    expect(r.exitCode, r.stderr).toBe(0);
    const isos = (await readdir(fx.out("")))
      .filter((n) => /^set-\d+\.iso$/.test(n))
      .sort((a, b) => parseInt(a.slice(4)) - parseInt(b.slice(4)));
    expect(isos.length).toBe(plan.volumes.length);
    expect(existsSync(fx.out("set.iso"))).toBe(false);

    const trees: string[] = [];
    for (const name of isos) {
      const dir = await extractIso(fx.out(name));
      trees.push(dir);
      expect(await readFile(join(dir, "bootmedia/volume.json"), "utf8")).toContain(`"count":${isos.length}`);
    }
    // Volume 1 holds everything needed to boot.
    for (const p of [
      "EFI/BOOT/BOOTX64.EFI",
      "boot/x64/vmlinuz",
      "bootmedia/media.json",
      "bootmedia/prestart/check.sh",
      "bootmedia/volumes.json",
    ])
      expect(existsSync(join(trees[0]!, p)), p).toBe(true);
    // The split file reassembles from its parts, as the manifest says.
    const manifest = JSON.parse(await readFile(join(trees[0]!, "bootmedia/volumes.json"), "utf8"));
    const split = manifest.split.find((s: { path: string }) => s.path === "content/driverpack.bin");
    const joined = Buffer.concat(
      await Promise.all(
        split.parts.map((p: { volume: number; path: string }) => readFile(join(trees[p.volume - 1]!, p.path))),
      ),
    );
    const original = await readFile(join(extra, "driverpack.bin"));
    expect(createHash("sha256").update(joined).digest("hex")).toBe(createHash("sha256").update(original).digest("hex"));
  });

  it("refuses names that collide on Joliet, exits 1 and writes nothing", async () => {
    const pre = join(fx.dir, "collide");
    await mkdir(pre, { recursive: true });
    const long = "a".repeat(70);
    await writeFile(join(pre, `${long}-one.sh`), "1");
    await writeFile(join(pre, `${long}-two.sh`), "2");
    const r = await bootmedia([...isoArgs("collide.iso", "--prestart-files", "../../collide"), "--json"], {
      env: env(),
    });
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout).diagnostics.map((d: { code: string }) => d.code)).toContain("BM3102");
    expect(existsSync(fx.out("collide.iso"))).toBe(false);
  });
});
