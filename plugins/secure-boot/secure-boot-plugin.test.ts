/** The validator's Secure Boot rules through the CLI, as users meet them (`plan` with machines on the command line). */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootmedia, ROOT } from "../../testing/cli.ts";

const SPEC = join(ROOT, "fixtures/specs/sample-dir.yaml");
const SNAKEOIL = "/usr/share/ovmf/PkKek-1-snakeoil.pem";

describe("SecureBootPlugin (validate)", () => {
  it("refuses unsigned media for a Secure Boot machine (BM3701), an unreadable trust certificate (BM3705), and leaves Secure Boot off alone", async () => {
    const r = await bootmedia(["plan", SPEC, "--machine", "x64-uefi+sb", "--machine", "x64-uefi:e1000+sb=missing.pem", "--machine", `x64-uefi+sb=${SNAKEOIL}`, "--machine", "x64-uefi"]);
    expect(r.exitCode).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/error BM3701 machines\[0\] \(x64-uefi, Secure Boot\)/);
    expect(out).toMatch(/error BM3705 machines\[1\]/);
    expect(out).toMatch(/error BM3701 machines\[2\]/);
    expect(out).not.toMatch(/machines\[3\]/);
  });

  it("plans the same media for machines without Secure Boot", async () => {
    const r = await bootmedia(["plan", SPEC, "--machine", "x64-uefi"]);
    expect(r.stdout + r.stderr).not.toMatch(/BM37\d\d/);
  });
});
