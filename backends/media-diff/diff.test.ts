/**
 * `bootmedia diff` through the real CLI. Two builds that differ in one variable, the
 * certificate dates and one prestart file report exactly those three differences; the set
 * of files whose bytes differ, found by extracting both ISOs with osirrox and hashing, is
 * exactly the set those three facts account for. Identical builds exit 0.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootmedia } from "../../testing/cli.ts";
import { hashTree } from "../../testing/tree-hash.ts";
import { buildSample, PASSWORD } from "../../plugins/media-manifest/testing/media-specs.ts";

const EPOCH = 1_795_000_000; // 2026-11-18
type Diff = {
  equal: boolean;
  differences: Array<{ area: string; item: string; change: string; a?: unknown; b?: unknown }>;
};
const diff = async (a: string, b: string) => {
  const r = await bootmedia(["diff", a, b, "--json"]);
  return { exitCode: r.exitCode, json: JSON.parse(r.stdout) as Diff, stdout: r.stdout };
};

async function osirroxTree(iso: string, dir: string): Promise<Record<string, string>> {
  execFileSync("osirrox", ["-indev", iso, "-extract", "/", dir], { stdio: "pipe" });
  return hashTree(dir);
}

describe("bootmedia diff", () => {
  it("one variable, the certificate dates and one prestart file: exactly three differences, no secret shown", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-diff-"));
    const a = await buildSample(
      join(dir, "a"),
      {
        variables: { OSDTimeZone: "UTC", OSDLocale: "en-US" },
        certificate: [-1, 365],
        prestart: { "check.sh": "echo ok\n", "net.sh": "ip a\n" },
      },
      EPOCH,
    );
    const b = await buildSample(
      join(dir, "b"),
      {
        variables: { OSDTimeZone: "W. Europe Standard Time", OSDLocale: "en-US" },
        certificate: [0, 730],
        prestart: { "check.sh": "echo ok\n", "net.sh": "ip addr show\n" },
      },
      EPOCH,
    );
    const r = await diff(a, b);
    expect(r.exitCode).toBe(1);
    expect(r.json.differences.map((d) => [d.area, d.item, d.change])).toEqual([
      ["certificate", "media certificate", "changed"],
      ["variables", "OSDTimeZone", "changed"],
      ["prestart", "bootmedia/prestart/net.sh", "changed"],
    ]);
    expect(Object.keys(r.json.differences[0]!.a as object)).toEqual(
      expect.arrayContaining(["notBefore", "notAfter", "sha256"]),
    );
    expect(r.json.differences[1]).toMatchObject({ a: "UTC", b: "W. Europe Standard Time" });
    expect(r.stdout).not.toContain(PASSWORD);
    // The oracle: files whose bytes differ (osirrox + sha256) are those the three facts restate.
    const ta = await osirroxTree(a, join(dir, "xa"));
    const tb = await osirroxTree(b, join(dir, "xb"));
    const changed = Object.keys({ ...ta, ...tb })
      .filter((p) => ta[p] !== tb[p])
      .sort();
    // media.env holds neither variables nor the certificate; the verifier's salt derives from the spec.
    expect(changed).toEqual([
      "bootmedia/manifest.json",
      "bootmedia/media.crt",
      "bootmedia/media.json",
      "bootmedia/password.sha512crypt",
      "bootmedia/prestart/net.sh",
      "bootmedia/secrets.enc",
    ]);
    const text = await bootmedia(["diff", a, b]);
    expect(text.stdout).toMatch(/3 differences/);
  }, 300_000);

  it("identical builds exit 0, ISO against ISO and ISO against USB image; a changed boot file shows with sizes and hashes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-diff-"));
    const a = await buildSample(join(dir, "a"), {}, EPOCH);
    const b = await buildSample(join(dir, "b"), {}, EPOCH);
    const same = await diff(a, b);
    expect(same.exitCode, same.stdout).toBe(0);
    expect(same.json).toMatchObject({ equal: true, differences: [] });
    const usb = await buildSample(join(dir, "u"), { kind: "usb" }, EPOCH);
    const mixed = await diff(a, usb);
    expect(
      mixed.json.differences.filter((d) => d.area !== "files"),
      mixed.stdout,
    ).toEqual([]);
    const folder = await buildSample(join(dir, "f"), { kind: "directory" }, EPOCH);
    execFileSync("sh", ["-c", `printf tampered > '${join(folder, "boot/x64/vmlinuz")}'`]);
    const changed = await diff(folder, b);
    expect(changed.exitCode).toBe(1);
    expect(changed.json.differences.find((d) => d.item === "boot/x64/vmlinuz")).toMatchObject({
      area: "files",
      change: "changed",
      a: { size: 8 },
    });
  }, 300_000);
});
