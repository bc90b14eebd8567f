/**
 * `bootmedia inspect --check` through the real CLI: certificate dates (the dates confirmed by
 * openssl on the media.crt that osirrox extracts), a boot file tampered in place at the
 * extent xorriso reports, and machines a current spec adds that the media cannot boot.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { openSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootmedia } from "../../testing/cli.ts";
import { buildSample, DAY_MS } from "../../plugins/media-manifest/testing/media-specs.ts";

const now = () => Math.floor(Date.now() / 1000);
const check = async (media: string, ...extra: string[]) => {
  const r = await bootmedia(["inspect", "--check", media, "--json", ...extra]);
  return {
    exitCode: r.exitCode,
    json: JSON.parse(r.stdout) as {
      ok: boolean;
      findings: Array<{ code: string; severity: string; message: string; path?: string }>;
      certificate?: { daysLeft: number };
      filesChecked: number;
    },
  };
};

function opensslEndDate(iso: string, dir: string): Date {
  const crt = join(dir, "extracted.crt");
  execFileSync("osirrox", ["-indev", iso, "-extract", "/bootmedia/media.crt", crt], { stdio: "pipe" });
  const line = execFileSync("openssl", ["x509", "-noout", "-enddate", "-in", crt], { encoding: "utf8" });
  return new Date(line.replace("notAfter=", "").trim());
}

describe("inspect --check", () => {
  it("a certificate expiring in 10 days is a BM3406 finding (exit 1); 400 days is fine (exit 0); --warn-days moves the line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-check-"));
    const soon = await buildSample(join(dir, "soon"), { certificate: [-1, 10] }, now());
    const later = await buildSample(join(dir, "later"), { certificate: [-1, 400] }, now());
    expect((opensslEndDate(soon, dir).getTime() - Date.now()) / DAY_MS).toBeLessThan(10.01);
    expect((opensslEndDate(later, dir).getTime() - Date.now()) / DAY_MS).toBeGreaterThan(399);
    const a = await check(soon);
    expect(a.exitCode).toBe(1);
    expect(a.json.findings.map((f) => f.code)).toEqual(["BM3406"]);
    expect(a.json.findings[0]!.message).toMatch(/expires on .*in (9|10) days/);
    const b = await check(later);
    expect(b.exitCode, JSON.stringify(b.json.findings)).toBe(0);
    expect(b.json.findings).toEqual([]);
    expect(b.json.filesChecked).toBeGreaterThan(5);
    expect((await check(soon, "--warn-days", "5")).exitCode).toBe(0);
    expect((await check(later, "--warn-days", "500")).json.findings.map((f) => f.code)).toEqual(["BM3406"]);
  }, 300_000);

  it("a boot file altered in place on the ISO is BM3501 (exit 1); the text report names it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-check-"));
    const iso = await buildSample(dir, { certificate: [-1, 400] }, now());
    expect((await check(iso)).exitCode).toBe(0);
    // xorriso, not our reader, says where the kernel's bytes are.
    const report = execFileSync("xorriso", ["-indev", iso, "-find", "/boot/x64/vmlinuz", "-exec", "report_lba", "--"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lba = Number(/File data lba:\s+\d+\s*,\s*(\d+)/.exec(report)![1]);
    const fd = openSync(iso, "r+");
    writeSync(fd, Buffer.from("X"), 0, 1, lba * 2048);
    closeSync(fd);
    const r = await check(iso);
    expect(r.exitCode).toBe(1);
    expect(r.json.findings).toMatchObject([{ code: "BM3501", path: "boot/x64/vmlinuz" }]);
    expect(r.json.findings[0]!.message).toContain("boot file boot/x64/vmlinuz differs from the manifest");
    const text = await bootmedia(["inspect", "--check", iso]);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain("error BM3501");
  }, 300_000);

  it("works on folders and USB images; a current spec's machine the media cannot boot is BM3003", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-check-"));
    const folder = await buildSample(join(dir, "f"), { kind: "directory", certificate: [-1, 400] }, now());
    const usb = await buildSample(join(dir, "u"), { kind: "usb", certificate: [-1, 400] }, now());
    expect((await check(folder)).exitCode).toBe(0);
    expect((await check(usb)).exitCode).toBe(0);
    const spec = join(dir, "f", "spec.yaml");
    await writeFile(
      spec,
      (await readFile(spec, "utf8")).replace(
        /^machines: .*$/m,
        "machines: [{ arch: x64, firmware: uefi }, { arch: x86, firmware: bios }]",
      ),
    );
    const r = await check(usb, "--spec", spec);
    expect(r.exitCode).toBe(1);
    expect(r.json.findings).toMatchObject([{ code: "BM3003", path: "machine x86-bios" }]);
    await writeFile(join(folder, "boot/x64/initrd.img"), "tampered");
    expect((await check(folder)).json.findings).toMatchObject([{ code: "BM3501", path: "boot/x64/initrd.img" }]);
  }, 300_000);
});
