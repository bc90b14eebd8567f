import { describe, expect, it } from "vitest";
import { FAST_FORMATS, imageFormats } from "./image.ts";

describe("bootmedia image: the fast path loads the plugins' own formats", () => {
  it("names the same formats as the plugins' definitions, and the very same objects", async () => {
    const fromPlugins = await imageFormats();
    expect(Object.keys(FAST_FORMATS).sort()).toEqual([...fromPlugins.keys()].sort());
    for (const [name, load] of Object.entries(FAST_FORMATS)) expect(await load()).toBe(fromPlugins.get(name));
  });
});

describe("bootmedia image: digits-only flag values", () => {
  it("takes --size in bytes, a digits-only --label and --volume-id (cac hands them over as numbers)", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { execa } = await import("execa");
    const { bootmedia } = await import("../../testing/cli.ts");
    const dir = await mkdtemp(join(tmpdir(), "bm-image-"));
    await writeFile(join(dir, "a.txt"), "hello\n");
    const fat = await bootmedia([
      "image",
      "fat",
      dir,
      "-o",
      join(dir, "fs.img"),
      "--size",
      String(8 * 2 ** 20),
      "--label",
      "2024",
    ]);
    expect(fat.stderr).toBe("");
    expect(fat.exitCode).toBe(0);
    // Oracles: fsck.fat accepts the volume, mtools reads its label and size.
    expect((await execa("fsck.fat", ["-n", join(dir, "fs.img")], { reject: false })).exitCode).toBe(0);
    expect(
      (await execa("mlabel", ["-s", "-i", join(dir, "fs.img"), "::"], { env: { MTOOLS_SKIP_CHECK: "1" } })).stdout,
    ).toMatch(/2024/);
    const { size } = await (await import("node:fs/promises")).stat(join(dir, "fs.img"));
    expect(size).toBe(8 * 2 ** 20);
    const iso = await bootmedia(["image", "iso", dir, "-o", join(dir, "x.iso"), "--volume-id", "2024"]);
    expect(iso.exitCode).toBe(0);
    expect((await execa("isoinfo", ["-d", "-i", join(dir, "x.iso")])).stdout).toMatch(/Volume id: 2024/);
  });
});
