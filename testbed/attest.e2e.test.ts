/**
 * One real QEMU run (TCG, one machine at a time), x64-bios and x64-uefi on e1000, of the reference ISO built with a
 * signed provenance, with `--attest-key`: the signed statement names the ISO's sha256
 * (oracle: sha256sum) and both cases; `bootmedia verify --require x64-uefi,x64-bios` passes
 * on it, and fails coded for a profile that was not run (BM6010) and for the statement given
 * with another medium (BM6008).
 */
import { execFileSync } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootmedia, ROOT } from "../testing/cli.ts";
import { referenceImages } from "../testing/reference-fixtures.ts";

let work: string;
const at = (name: string) => join(work, name);

beforeAll(async () => {
  await referenceImages();
  work = await mkdtemp(join(tmpdir(), "bm-attest-"));
  execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", at("attest.key")]);
  execFileSync("openssl", ["pkey", "-in", at("attest.key"), "-pubout", "-out", at("attest.pub")]);
  const b = await bootmedia(
    [
      "build",
      join(ROOT, "fixtures/specs/reference.yaml"),
      "--out",
      at("ref.iso"),
      "--attest-key",
      `file:${at("attest.key")}`,
    ],
    { env: { BOOTMEDIA_CACHE: at("cache") } },
  );
  expect(b.exitCode, b.stderr).toBe(0);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("testbed --attest-key, then verify", () => {
  it("signs the verdicts of x64-bios and x64-uefi for the ISO's sha256; verify --require passes, and refuses what was not run", async () => {
    const r = await bootmedia(
      [
        "testbed",
        at("ref.iso"),
        "--profiles",
        "x64-bios,x64-uefi",
        "--nics",
        "e1000",
        "--concurrency",
        "1",
        "--report-dir",
        at("report"),
        "--attest-key",
        "env:BM_TEST_ATTEST_KEY",
      ],
      { env: { BM_TEST_ATTEST_KEY: await readFile(at("attest.key"), "utf8") } },
    );
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain("PRIVATE KEY");
    const statement = at("report/attestations/ref.iso.testbed.intoto.json");
    expect(r.stderr).toContain(`signed statement: ${statement}`);
    const env = JSON.parse(await readFile(statement, "utf8"));
    const st = JSON.parse(Buffer.from(env.payload, "base64").toString("utf8"));
    const sha = execFileSync("sha256sum", [at("ref.iso")], { encoding: "utf8" }).split(" ")[0];
    expect(st.subject).toEqual([{ name: "ref.iso", digest: { sha256: sha } }]);
    expect(
      st.predicate.cases
        .map((c: { profile: string; nic: string; verdict: string }) => [c.profile, c.nic, c.verdict])
        .sort(),
    ).toEqual([
      ["x64-bios", "e1000", "pass"],
      ["x64-uefi", "e1000", "pass"],
    ]);
    expect(st.predicate.judgedBy.qemu).toMatch(/^QEMU emulator version \d/);
    expect(st.predicate.judgedBy.ovmf).toMatch(/^ovmf \S+/);

    const verifyRequiring = (profiles: string) =>
      bootmedia([
        "verify",
        at("ref.iso"),
        "--key",
        at("attest.pub"),
        "--attestation",
        statement,
        "--require",
        profiles,
      ]);
    const ok = await verifyRequiring("x64-uefi,x64-bios");
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ok {2}testbed .*x64-bios:e1000 pass/);
    expect(ok.stdout).toMatch(/ok {2}provenance /);

    const notRun = await verifyRequiring("x86-uefi");
    expect(notRun.exitCode).toBe(1);
    expect(notRun.stderr).toMatch(/^error BM6010 .*x86-uefi did not pass on this medium \(not run\)/m);

    await copyFile(at("ref.iso"), at("copy.iso"));
    execFileSync("sh", ["-c", `printf 'X' | dd of='${at("copy.iso")}' bs=1 seek=40000 conv=notrunc 2>/dev/null`]);
    const tampered = await bootmedia(["verify", at("copy.iso"), "--key", at("attest.pub"), "--attestation", statement]);
    expect(tampered.exitCode).toBe(1);
    expect(tampered.stderr).toMatch(/^error BM6008 /m);
  }, 600_000);
});
