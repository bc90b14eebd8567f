/**
 * `bootmedia library ...` and the generated boot loader, through the real CLI. Oracles:
 * sha256sum for the manifests, file(1) for the kernels, xorriso (osirrox) for the grub.cfg
 * on the media, grub-script-check for its syntax.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { syntheticKernel } from "../../formats/bzimage/testing/synthetic-kernel.ts";
import { bootmedia, ROOT } from "../../testing/cli.ts";

let dir: string;
let lib: string;
const env = () => ({ BOOTMEDIA_CACHE: join(dir, "cache"), SOURCE_DATE_EPOCH: "1764000000" });
const k64 = () => join(dir, "vmlinuz-64");
const k32 = () => join(dir, "vmlinuz-32");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bm-library-"));
  lib = join(dir, "lib");
  writeFileSync(k64(), syntheticKernel(64));
  writeFileSync(k32(), syntheticKernel(32));
  writeFileSync(join(dir, "initrd.gz"), "not really an initrd\n");
  writeFileSync(join(dir, "not-a-kernel"), Buffer.alloc(4096, 0x41));
});

const STEPS = "steps:\n  - { name: Hello, type: run-command, command: echo hello }\n";
const sha256sum = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];

describe("bootmedia library", () => {
  it("add-boot-image imports a kernel and initrd with a manifest the tool wrote (oracles: sha256sum, file)", async () => {
    const r = await bootmedia(
      [
        "library",
        "add-boot-image",
        lib,
        "--kernel",
        k64(),
        "--initrd",
        join(dir, "initrd.gz"),
        "--arch",
        "x64",
        "--cmdline",
        "console=ttyS0,115200 priority=low",
        "--drivers",
        "e1000,virtio_net",
        "--id",
        "DEB64",
      ],
      { env: env() },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("added DEB64 (boot-image, x64)");
    const manifest = JSON.parse(readFileSync(join(lib, "packages/DEB64/package.json"), "utf8"));
    expect(manifest.bootImage).toEqual({
      arch: "x64",
      drivers: ["e1000", "virtio_net"],
      kernel: "boot/DEB64/vmlinuz-64",
      initrd: "boot/DEB64/initrd.gz",
      cmdline: "console=ttyS0,115200 priority=low",
    });
    for (const f of manifest.files) expect(f.sha256).toBe(sha256sum(join(lib, "packages/DEB64/files", f.path)));
    expect(
      execFileSync("file", ["-b", join(lib, "packages/DEB64/files/boot/DEB64/vmlinuz-64")], { encoding: "utf8" }),
    ).toMatch(/bzImage/);
  });

  it("add-boot-image without an initrd, and an id picked when none is given", async () => {
    const r = await bootmedia(
      ["library", "add-boot-image", lib, "--kernel", k32(), "--arch", "x86", "--cmdline", "console=ttyS0,115200 quiet"],
      { env: env() },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("added BM108601 (boot-image, x86)");
    const manifest = JSON.parse(readFileSync(join(lib, "packages/BM108601/package.json"), "utf8"));
    expect(manifest.bootImage).not.toHaveProperty("initrd");
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(["boot/BM108601/vmlinuz-32"]);
  });

  it("add takes a task-sequence and a prestart folder; ls lists every package", async () => {
    const ts = join(dir, "ts");
    mkdirSync(ts);
    writeFileSync(join(ts, "steps.yaml"), STEPS);
    expect(
      (await bootmedia(["library", "add", lib, ts, "--type", "task-sequence", "--id", "TS1"], { env: env() })).exitCode,
    ).toBe(0);
    expect(
      (
        await bootmedia(["library", "add", lib, join(ROOT, "fixtures/specs/prestart"), "--type", "prestart"], {
          env: env(),
        })
      ).exitCode,
    ).toBe(0);
    const r = await bootmedia(["library", "ls", lib, "--json"], { env: env() });
    expect(r.exitCode).toBe(0);
    const rows = JSON.parse(r.stdout).packages;
    expect(rows.map((p: { id: string; type: string }) => `${p.id}:${p.type}`)).toEqual([
      "BM108601:boot-image",
      "BM300001:prestart",
      "DEB64:boot-image",
      "TS1:task-sequence",
    ]);
    expect((await bootmedia(["library", "ls", lib], { env: env() })).stdout).toMatch(/DEB64\s+boot-image\s+x64/);
  });

  it("verify passes an intact library and exits 1 with BM2304 naming a changed file", async () => {
    const ok = await bootmedia(["library", "verify", lib], { env: env() });
    expect(ok.exitCode, ok.stdout).toBe(0);
    expect(ok.stdout).toContain("all match their manifests");
    appendFileSync(join(lib, "packages/TS1/files/steps.yaml"), "#x");
    const bad = await bootmedia(["library", "verify", lib], { env: env() });
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain(
      `error BM2304 TS1/steps.yaml: ${STEPS.length + 2} bytes, the manifest says ${STEPS.length}`,
    );
    writeFileSync(join(lib, "packages/TS1/files/steps.yaml"), STEPS);
  });

  it.each([
    ["BM2401", "steps:\n  - { name: A, type: reboot-now }\n", 'steps[0] ("A"): type: unknown step type "reboot-now"'],
    [
      "BM2401",
      "steps:\n  - name: G\n    type: group\n    steps:\n      - { name: B, type: run-command }\n",
      'steps[0].steps[0] ("B"): command:',
    ],
    [
      "BM2403",
      `steps:\n${"  - { name: S, type: set-variable, variable: X, value: v }\n".repeat(1001)}`,
      "more than 1000 steps",
    ],
    ["BM2402", null, "cannot read task-sequence steps"],
  ])("add refuses a task-sequence folder with %s naming the step, and adds nothing", async (code, text, message) => {
    const ts = mkdtempSync(join(dir, "bad-ts-"));
    if (text !== null) writeFileSync(join(ts, "steps.yaml"), text);
    const r = await bootmedia(["library", "add", lib, ts, "--type", "task-sequence", "--id", "TSBAD"], { env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`error ${code}`);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/hint: /);
    expect(existsSync(join(lib, "packages/TSBAD"))).toBe(false);
  });

  it("verify re-validates a task sequence's steps.yaml (BM2401 naming the step), besides its hash", async () => {
    const bad = join(lib, "packages/TS2");
    mkdirSync(join(bad, "files"), { recursive: true });
    const text = "steps:\n  - { name: Hello, type: run-command, command: echo, timeout: 0 }\n";
    writeFileSync(join(bad, "files/steps.yaml"), text);
    writeFileSync(
      join(bad, "package.json"),
      JSON.stringify({
        id: "TS2",
        type: "task-sequence",
        name: "written by hand",
        version: "1",
        files: [{ path: "steps.yaml", size: text.length, sha256: sha256sum(join(bad, "files/steps.yaml")) }],
      }),
    );
    const r = await bootmedia(["library", "verify", lib], { env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/error BM2401 TS2\/steps.yaml: .*steps\[0\] \("Hello"\): timeout: /);
    expect(r.stdout).toContain("1 problem");
    rmSync(bad, { recursive: true });
  });

  it("the sample library's task sequence carries valid steps listed in its manifest", async () => {
    const r = await bootmedia(["library", "verify", join(ROOT, "fixtures/content"), "--json"], { env: env() });
    expect(r.exitCode, r.stdout).toBe(0);
    const manifest = JSON.parse(readFileSync(join(ROOT, "fixtures/content/packages/BM200010/package.json"), "utf8"));
    expect(manifest.files).toEqual([
      {
        path: "steps.yaml",
        size: expect.any(Number),
        sha256: sha256sum(join(ROOT, "fixtures/content/packages/BM200010/files/steps.yaml")),
      },
    ]);
  });

  it.each([
    ["BM2301", ["--kernel", "K64", "--arch", "arm64"], "--arch arm64 is not a boot-image architecture"],
    ["BM2302", ["--kernel", "/nonexistent/vmlinuz", "--arch", "x64"], "the kernel /nonexistent/vmlinuz does not exist"],
    ["BM2303", ["--kernel", "K64", "--arch", "x64", "--id", "DEB64"], "already has a package DEB64"],
    ["BM2305", ["--kernel", "K64", "--arch", "x64", "--id", "bad id!"], "is not a package id"],
    ["BM3603", ["--kernel", "NOTK", "--arch", "x64"], "is not an x86 Linux kernel (bzImage)"],
    ["BM3604", ["--kernel", "K32", "--arch", "x64"], "is a 32-bit kernel"],
  ])("add-boot-image refuses with %s", async (code, args, message) => {
    const real = args.map((a) =>
      a === "K64" ? k64() : a === "K32" ? k32() : a === "NOTK" ? join(dir, "not-a-kernel") : a,
    );
    const r = await bootmedia(["library", "add-boot-image", lib, ...real], { env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`error ${code}`);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/hint: /);
  });

  it("add refuses an unknown folder type with BM2306", async () => {
    const r = await bootmedia(["library", "add", lib, dir, "--type", "boot-image"], { env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("error BM2306");
  });
});

/** A spec of the test library, as an ISO. */
function spec(name: string, bootImage: string[], extra = ""): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\nbootImage: [${bootImage.join(", ")}]\ntaskSequence: TS1\ncontentLibrary: ${lib}\ntarget: { type: iso, output: ${join(dir, `${name}.iso`)} }\nunattended: true\nmanagementPoints: { mode: dynamic, list: [{ url: "http://mp1.contoso.test", priority: 1 }] }\nsecurity: { unknownComputers: true }\n${extra}`,
  );
  return file;
}

/** The media's grub.cfg as xorriso reads it back from the ISO. */
function grubCfgOf(iso: string): string {
  const out = join(dir, `${Math.random().toString(16).slice(2)}.cfg`);
  execFileSync("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/boot/grub/grub.cfg", out], { stdio: "pipe" });
  execFileSync("grub-script-check", [out], { stdio: "pipe" });
  return readFileSync(out, "utf8");
}

describe("the boot loader bootmedia generates", () => {
  it("boots two images with different command lines from one medium, each with its own line plus bootLoader.kernelArgs", async () => {
    const r = await bootmedia(
      ["build", spec("two", ["BM108601", "DEB64"], 'bootLoader: { kernelArgs: "ip=dhcp" }\n'), "--quiet"],
      { env: env() },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const cfg = grubCfgOf(join(dir, "two.iso"));
    expect(cfg).toContain("if linux /boot/BM108601/vmlinuz-32 console=ttyS0,115200 quiet ip=dhcp; then\n    boot");
    expect(cfg).toContain(
      "if linux /boot/DEB64/vmlinuz-64 console=ttyS0,115200 priority=low ip=dhcp; then\n    if initrd /boot/DEB64/initrd.gz; then boot; fi",
    );
    const torito = execFileSync("xorriso", ["-indev", join(dir, "two.iso"), "-report_el_torito", "plain"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(torito).toMatch(/El Torito boot img :\s+1\s+BIOS/);
    expect(torito).toMatch(/El Torito boot img :\s+2\s+UEFI/);
  });

  it("--kernel-args on the command line reaches grub.cfg too", async () => {
    const r = await bootmedia(["build", spec("flag", ["DEB64"]), "--kernel-args", "debug", "--quiet"], { env: env() });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(grubCfgOf(join(dir, "flag.iso"))).toContain("console=ttyS0,115200 priority=low debug; then");
  });

  it("refuses two images of one architecture (BM3605), and manifests whose kernel or initrd the package lacks (BM3601, BM3602)", async () => {
    expect(
      (
        await bootmedia(["library", "add-boot-image", lib, "--kernel", k64(), "--arch", "x64", "--id", "OTHER64"], {
          env: env(),
        })
      ).exitCode,
    ).toBe(0);
    const two = await bootmedia(["build", spec("dup", ["DEB64", "OTHER64"]), "--quiet"], { env: env() });
    expect(two.exitCode).toBe(1);
    expect(two.stderr).toContain("error BM3605");
    const manifestFile = join(lib, "packages/OTHER64/package.json");
    const m = JSON.parse(readFileSync(manifestFile, "utf8"));
    writeFileSync(
      manifestFile,
      JSON.stringify({
        ...m,
        bootImage: { ...m.bootImage, kernel: "boot/OTHER64/missing", initrd: "boot/OTHER64/none.img" },
      }),
    );
    const bad = await bootmedia(["build", spec("bad", ["OTHER64"]), "--quiet"], { env: env() });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("error BM3601");
    expect(bad.stderr).toContain("error BM3602");
  });

  it("refuses a manifest whose kernel is not a bzImage of its stated arch, read after fetch (BM3604)", async () => {
    const manifestFile = join(lib, "packages/OTHER64/package.json");
    const m = JSON.parse(readFileSync(manifestFile, "utf8"));
    writeFileSync(
      manifestFile,
      JSON.stringify({
        ...m,
        bootImage: { ...m.bootImage, arch: "x86", kernel: "boot/OTHER64/vmlinuz-64", initrd: undefined },
      }),
    );
    const r = await bootmedia(["build", spec("arch", ["OTHER64"]), "--quiet"], { env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("error BM3604");
    expect(r.stderr).toContain("is a 64-bit kernel");
  });
});
