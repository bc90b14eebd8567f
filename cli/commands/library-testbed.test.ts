/**
 * `library add-boot-image --pass-serial/--pass-screen/--memory`: how the testbed judges an
 * imported image without the bootmedia agent lands in its manifest (`bootImage.testbed`),
 * which the build copies into media.json. The Debian installer run (docs/testbed.md) boots it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { syntheticKernel } from "../../formats/bzimage/testing/synthetic-kernel.ts";
import { bootmedia } from "../../testing/cli.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bm-library-testbed-"));
  writeFileSync(join(dir, "linux"), syntheticKernel(64));
});
const env = () => ({ BOOTMEDIA_CACHE: join(dir, "cache") });

describe("library add-boot-image testbed hints", () => {
  it("writes the pass patterns and least memory into the manifest", async () => {
    const lib = join(dir, "lib");
    const r = await bootmedia(
      [
        "library",
        "add-boot-image",
        lib,
        "--kernel",
        join(dir, "linux"),
        "--arch",
        "x64",
        "--id",
        "DI64",
        "--cmdline",
        "nomodeset",
        "--pass-screen",
        "Select a language",
        "--pass-serial",
        "Select a language",
        "--memory",
        "1024",
      ],
      { env: env() },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(lib, "packages/DI64/package.json"), "utf8"));
    expect(manifest.bootImage.testbed).toEqual({
      pass: { serial: "Select a language", screen: "Select a language" },
      memoryMiB: 1024,
    });
  });

  it("leaves the manifest without hints when none is given, and refuses a memory figure out of range (BM2003)", async () => {
    const lib = join(dir, "lib2");
    expect(
      (
        await bootmedia(
          ["library", "add-boot-image", lib, "--kernel", join(dir, "linux"), "--arch", "x64", "--id", "PLAIN"],
          { env: env() },
        )
      ).exitCode,
    ).toBe(0);
    expect(JSON.parse(readFileSync(join(lib, "packages/PLAIN/package.json"), "utf8")).bootImage).not.toHaveProperty(
      "testbed",
    );
    const bad = await bootmedia(
      [
        "library",
        "add-boot-image",
        lib,
        "--kernel",
        join(dir, "linux"),
        "--arch",
        "x64",
        "--id",
        "BAD",
        "--memory",
        "64",
      ],
      { env: env() },
    );
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain("BM2003");
    expect(bad.stderr).toContain("memoryMiB");
  });
});
