/** `bootmedia os-image build`'s refusals: coded, before anything is downloaded or written. */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootmedia } from "../../testing/cli.ts";

describe("bootmedia os-image build refuses bad options", () => {
  const out = join(mkdtempSync(join(tmpdir(), "bm-os-image-cli-")), "lib");
  it.each([
    [["--distro", "debian-11", "--arch", "x64"], "BM5405"],
    [["--arch", "x64"], "BM5405"],
    [["--distro", "debian-12", "--arch", "x64", "--size", "100MiB"], "BM5405"],
    [["--distro", "debian-12", "--arch", "arm64"], "BM2301"],
    [["--distro", "debian-12"], "BM1009"],
  ])("%j → %s", async (args, code) => {
    const r = await bootmedia(["os-image", "build", ...args, "--out", out]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(code);
    expect(existsSync(out)).toBe(false);
  });
});
