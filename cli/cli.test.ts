import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { hashTree } from "../testing/tree-hash.ts";
import { bootmedia, scratchFixtures, BIN } from "../testing/cli.ts";

let fx: Awaited<ReturnType<typeof scratchFixtures>>;
const env = () => ({ BOOTMEDIA_CACHE: fx.cache, SOURCE_DATE_EPOCH: "1764000000" });

beforeAll(async () => {
  fx = await scratchFixtures();
});

describe("bootmedia plan", () => {
  it("prints the layout as JSON: volumes, files with sizes, boot entries", async () => {
    const r = await bootmedia(["plan", fx.spec("sample-dir.yaml"), "--json"], { env: env() });
    expect(r.exitCode).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.volumes).toHaveLength(1);
    const files = plan.volumes[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "boot/x64/vmlinuz",
        "bootmedia/media.json",
        "bootmedia/media.env",
        "bootmedia/prestart/check.sh",
      ]),
    );
    for (const f of plan.volumes[0].files) expect(f.size).toBeGreaterThan(0);
    // bootmedia's boot loader: the BIOS files and the UEFI file of the x64 image's bitness only.
    expect(plan.volumes[0].boot.map((b: { role: string }) => b.role)).toEqual([
      "bios-eltorito",
      "bios-hybrid",
      "bios-mbr",
      "bios-core",
      "uefi-x64",
    ]);
    expect(plan.volumes[0].boot.find((b: { role: string }) => b.role === "uefi-x64")).toEqual({
      firmware: "uefi",
      arch: "x64",
      role: "uefi-x64",
      path: "EFI/BOOT/BOOTX64.EFI",
    });
    expect(files).toEqual(
      expect.arrayContaining(["boot/grub/grub.cfg", "boot/grub/i386-pc/eltorito.img", "EFI/BOOT/BOOTX64.EFI"]),
    );
    expect(existsSync(fx.out("contoso-x64"))).toBe(false);
  });
});

describe("bootmedia build (directory writer)", () => {
  it("writes the tree and <output>.bootmedia.log, refuses to overwrite, replaces with --force", async () => {
    const out = fx.out("contoso-x64");
    const first = await bootmedia(["build", fx.spec("sample-dir.yaml")], { env: env() });
    expect(first.exitCode, first.stderr).toBe(0);
    const config = JSON.parse(await readFile(join(out, "bootmedia/media.json"), "utf8"));
    expect(config).toMatchObject({
      id: "contoso-x64",
      taskSequence: "BM200010",
      unknownComputers: true,
      userDeviceAffinity: "auto",
    });
    expect(config.managementPoints.list.map((m: { url: string }) => m.url)).toEqual([
      "http://mp1.contoso.test",
      "http://mp2.contoso.test",
    ]);
    const log = await readFile(join(fx.dir, "out/contoso-x64.bootmedia.log"), "utf8");
    expect(log).toMatch(/package BM100001 \(boot-image\)/);
    expect(log).toMatch(/command line: sh bootmedia\/prestart\/check.sh/);
    expect(log).toMatch(/variable OSDTimeZone=UTC/);
    expect(log).toMatch(/\[write\] stage took \d+ ms/);
    const before = await hashTree(out);

    const again = await bootmedia(["build", fx.spec("sample-dir.yaml")], { env: env() });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/BM1010/);
    expect(await hashTree(out)).toEqual(before);

    await writeFile(join(out, "stale-file-from-old-build"), "x");
    const forced = await bootmedia(["build", fx.spec("sample-dir.yaml"), "--force", "--var", "OSDTimeZone=CET"], {
      env: env(),
    });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(existsSync(join(out, "stale-file-from-old-build"))).toBe(false);
    expect(JSON.parse(await readFile(join(out, "bootmedia/media.json"), "utf8")).variables.OSDTimeZone).toBe("CET");
    expect((await readdir(fx.out(""))).filter((n) => n.includes(".bootmedia-"))).toEqual([]);
  });

  it("reports all five spec mistakes, exits 1 and writes nothing", async () => {
    const r = await bootmedia(["build", fx.spec("bad-five.yaml"), "--json"], { env: env() });
    expect(r.exitCode).toBe(1);
    const { diagnostics } = JSON.parse(r.stdout);
    expect(diagnostics.map((d: { code: string }) => d.code).sort()).toEqual([
      "BM1003",
      "BM1004",
      "BM1005",
      "BM1006",
      "BM3005",
    ]);
    for (const d of diagnostics) expect(d.path).toMatch(/bad-five\.yaml:\d+:\d+/);
    expect(r.stdout + r.stderr).not.toContain("hunter2");
    expect(existsSync(fx.out("bad-five"))).toBe(false);
  });

  it("runs a third-party plugin from the spec's plugins: list with no change to core", async () => {
    const r = await bootmedia(["build", fx.spec("sample-plugin.yaml"), "--json", "--quiet"], { env: env() });
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.diagnostics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: "HELLO001", severity: "warning", source: "HelloPlugin" }),
      ]),
    );
    expect(await readFile(join(fx.out("contoso-plugin"), "hello/hello.txt"), "utf8")).toBe(
      "hello from contoso-plugin\n",
    );
  });

  it("fails with a coded error naming the file when library bytes do not match the manifest", async () => {
    const tampered = join(fx.dir, "fixtures/content/packages/BM100001/files/boot/x64/initrd.img");
    const original = await readFile(tampered);
    await writeFile(tampered, "tampered\n");
    try {
      const r = await bootmedia(
        ["build", fx.spec("sample-dir.yaml"), "--out", fx.out("tampered"), "--cache-dir", join(fx.dir, "cache-tamper")],
        { env: env() },
      );
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/BM2004 .*BM100001\/boot\/x64\/initrd\.img/);
      expect(existsSync(fx.out("tampered"))).toBe(false);
    } finally {
      await writeFile(tampered, original);
    }
  });

  it("exits 2 on usage errors", async () => {
    const r = await bootmedia(["frobnicate"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/BM1009/);
  });

  it("leaves the previous output intact and no temporaries when SIGINT arrives mid-write", async () => {
    const big = join(fx.dir, "fixtures/specs/bigprestart");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(big, { recursive: true });
    const chunk = Buffer.alloc(1024 * 1024, 7);
    for (let i = 0; i < 300; i++) await writeFile(join(big, `f${i}.bin`), chunk);
    const out = fx.out("sigint");
    const args = ["build", fx.spec("sample-dir.yaml"), "--out", out];
    expect((await bootmedia(args, { env: env() })).exitCode).toBe(0);
    const before = await hashTree(out);

    const child = execa("node", [BIN, ...args, "--prestart-files", "bigprestart", "--force"], {
      reject: false,
      env: { ...env(), NO_COLOR: "1" },
    });
    let stderr = "";
    await new Promise<void>((resolve) => {
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/\[write [^\]]*\] started/.test(stderr)) resolve();
      });
    });
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toMatch(/BM4003/);
    expect(await hashTree(out)).toEqual(before);
    expect((await readdir(fx.out(""))).filter((n) => n.includes(".bootmedia-"))).toEqual([]);
  });
});
