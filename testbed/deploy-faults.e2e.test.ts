/**
 * The deploy failure cases of issue #25, from a spec and a site file only (`bootmedia testbed
 * --site`), in one testbed run (one media build, x64-bios, the cases concurrently): a small real
 * OS image (96 MiB GPT with ext4 root, 8 MiB of it incompressible, zstd) in the site's library,
 * the real MP and the real DP (serveLibrary) through the restricted guest network, and
 *   - changed: the DP serves a copy of the library whose image has one byte changed (its
 *     package.json the same) → apply-image fails with image-hash-mismatch after writing the
 *     image, and the disk is wiped: no partition table left, its first MiBs zero;
 *   - no-disk: the machine has no disk → select-disk refuses with no-disk, nothing fetched;
 *   - small: a 64 MiB disk for the 96 MiB image → select-disk refuses with disk-too-small,
 *     nothing fetched, the disk still all zeros.
 * Each failure's code is pinned on the screen (the VGA text buffer), in the error marker, in
 * the MP's status events and its status line (`failed`), and in the log the machine uploaded
 * to the MP. The DP dropping the connection half-way: testbed/mp/deploy-engine.e2e.test.ts.
 * Needs `npm run fixtures`.
 */
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../testing/cli.ts";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { deployMediaSpec } from "./testing/deploy-media.ts";
import { addTestOsImagePackage, makeTestOsImage, type TestOsImage } from "./mp/testing/os-image.ts";
import type { CaseResult } from "./runner.ts";

const MiB = 1048576;
const PASSWORD = "Faults-Horse-Battery-9";
const PKG = "OSI00001";
const IMAGE_FILE = `/packages/${PKG}/files/disk.raw.zst`;
/** Sentences folded to the screen's width, compared with the line breaks taken out. */
const squash = (text: string) => text.replace(/\s+/g, " ");

let dir: string;
let report: string;
let image: TestOsImage;
let storedSize: number;
let runSeconds: number;
let run: { exitCode: number | undefined; stderr: string; cases: CaseResult[] };

beforeAll(async () => {
  await referenceImages();
  dir = await mkdtemp(join(tmpdir(), "bm-deploy-faults-"));
  image = makeTestOsImage(join(dir, "image"), 96, { noiseMiB: 8 });
  addTestOsImagePackage(join(dir, "lib"), PKG, image);
  // The DP's copy: the same package.json, the image with one byte changed three quarters in
  // (in the noise, where zstd only notices at the frame's end: the whole image is written first).
  addTestOsImagePackage(join(dir, "lib-changed"), PKG, image);
  const changed = join(dir, "lib-changed", IMAGE_FILE);
  const bytes = readFileSync(changed);
  storedSize = bytes.length;
  bytes[Math.floor(bytes.length * 0.75)]! ^= 0x01;
  await writeFile(changed, bytes);
  await writeFile(join(dir, "faults.yaml"), deployMediaSpec({ name: "faults" }));
  const answers = `answers: { password: ["env:MEDIA_PW"] }`;
  await writeFile(
    join(dir, "site.yaml"),
    `site:
  siteCode: BM1
  managementPoints: [MP1]
  library: lib
  distributionPoints: [{ name: DP1, url: "http://10.0.2.200" }]
  computers: [{ name: PC-FAULTS, mac: "52:54:00:12:34:56" }]
  taskSequences:
    - id: BM200010
      name: Deploy
      steps:
        - { name: Pick the disk, type: select-disk }
        - { name: Apply the image, type: apply-image, package: ${PKG} }
        - { name: Name it, type: write-files }
        - { name: Restart, type: restart }
  deployments: [{ id: DEP-FAULTS, taskSequence: BM200010, target: all }]
  certificates: [{ media: faults }]
media: { faults: faults.yaml }
cases:
  - { name: changed, media: faults, disk: { size: 128MiB, bus: nvme, keep: true }, dps: [{ name: DP1, library: lib-changed }], ${answers} }
  - { name: no-disk, media: faults, disk: none, ${answers} }
  - { name: small, media: faults, disk: { size: 64MiB, bus: sata, keep: true }, ${answers} }
`,
  );
  report = join(dir, "report");
  await mkdir(report, { recursive: true });
  const t0 = Date.now();
  const r = await bootmedia(["testbed", "--site", "site.yaml", "--report-dir", report, "--json"], {
    env: { MEDIA_PW: PASSWORD },
    cwd: dir,
  });
  runSeconds = (Date.now() - t0) / 1000;
  const results = JSON.parse(readFileSync(join(report, "x64-bios-e1000", "results.json"), "utf8")) as {
    cases: CaseResult[];
  };
  run = { exitCode: r.exitCode, stderr: r.stderr, cases: results.cases };
  process.stderr.write(`deploy-faults: the site run (media build and 3 cases) took ${runSeconds.toFixed(0)} s\n`);
}, 1_800_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const caseOf = (name: string) => {
  const c = run.cases.find((x) => x.media.label === name);
  expect(c, `${name}: ${run.stderr}`).toBeDefined();
  return c!;
};
const caseFile = (rel: string) => join(report, "x64-bios-e1000", rel);
const mpOf = (c: CaseResult) => c.managementPoints!.find((m) => m.name === "MP1")!;

interface Failure {
  name: string;
  step: number;
  stepName: string;
  type: string;
  code: string;
  /** The failed step's whole message, as the event and the log carry it. */
  message: RegExp;
}
const FAILURES: Failure[] = [
  {
    name: "changed",
    step: 2,
    stepName: "Apply the image",
    type: "apply-image",
    code: "image-hash-mismatch",
    message:
      /^image-hash-mismatch: disk\.raw\.zst: sha256 [0-9a-f]{64}, the package says [0-9a-f]{64}; the disk was wiped$/,
  },
  {
    name: "no-disk",
    step: 1,
    stepName: "Pick the disk",
    type: "select-disk",
    code: "no-disk",
    message: /^no-disk: no non-removable disk was found \(the boot medium is never one\)$/,
  },
  {
    name: "small",
    step: 1,
    stepName: "Pick the disk",
    type: "select-disk",
    code: "disk-too-small",
    message: /^disk-too-small: a non-removable disk of at least 96 MiB is needed; too small: \/dev\/sda \(64 MiB\)$/,
  },
];

describe("deploy failure cases in real boots (x64-bios, TCG), from a site file", () => {
  it("every case ends as the testbed predicts (the task sequence failed), after the first boot only", () => {
    expect(run.cases.map((c) => c.media.label).sort()).toEqual(["changed", "no-disk", "small"]);
    for (const c of run.cases) {
      expect(c.ok, `${c.media.label}: ${JSON.stringify(c.actual)}`).toBe(true);
      expect(c.expected).toEqual({ status: "fail", reason: "task-sequence-failed" });
      expect(c.actual).toMatchObject({ status: "fail", reason: "task-sequence-failed" });
      expect(c.deploy!.boots.map((b) => b.what)).toEqual(["media"]);
      expect(c.markers.some((m) => m.event === "restart")).toBe(false);
      expect(c.taskSequence?.problems).toEqual([]);
    }
    expect(run.exitCode).toBe(0);
  });

  describe.each(FAILURES)("$name: $type fails with $code", (f) => {
    it("the error marker and the screen name the step and its code", () => {
      const c = caseOf(f.name);
      expect(c.markers.at(-1)).toMatchObject({
        event: "error",
        reason: "task-sequence-failed",
        step: f.step,
        code: f.code,
      });
      expect(c.screenText, "no VGA text screen").toBeDefined();
      const screen = squash(readFileSync(caseFile(c.screenText!), "utf8"));
      expect(screen).toContain(`The task sequence stopped: step ${f.step}, ${f.stepName} (${f.code}) failed`);
      expect(screen).toContain("Reason code task-sequence-failed");
    });

    it("the MP's status: the step's failure with its coded message, the sequence failed, its status line failed", () => {
      const mp = mpOf(caseOf(f.name));
      const events = mp.status!.filter((e) => e.deploymentId === "DEP-FAULTS");
      expect(new Set(events.map((e) => e.run)).size).toBe(1);
      const failed = events.filter((e) => e.state === "failure");
      expect(failed.map((e) => e.step)).toEqual([f.step, 0]);
      expect(failed[0]!.message).toMatch(f.message);
      expect(failed[1]!.message).toBe(`step ${f.step} failed: ${f.stepName}`);
      // Nothing after the failed step started.
      expect(Math.max(...events.filter((e) => e.state === "start").map((e) => e.step))).toBe(f.step);
      expect(mp.computers).toEqual([
        expect.objectContaining({
          computer: "PC-FAULTS",
          deploymentId: "DEP-FAULTS",
          state: "failed",
          failures: 1,
          run: events[0]!.run,
        }),
      ]);
    });

    it("the log the machine uploaded to the MP carries the failure and its code", () => {
      const mp = mpOf(caseOf(f.name));
      expect(mp.uploadedLogs).toHaveLength(1);
      const log = readFileSync(caseFile(mp.uploadedLogs![0]!.file), "utf8");
      expect(log.length).toBe(mp.uploadedLogs![0]!.bytes);
      const line = log.split("\n").find((l) => l.includes(`step ${f.step}/4 ${f.type} "${f.stepName}": failure: `));
      expect(line, log).toBeDefined();
      expect(line!.replace(/^.*?: failure: /, "")).toMatch(f.message);
      expect(log).toContain(`the task sequence failed at step ${f.step}`);
    });
  });

  it("changed: the image was written, then wiped — no partition table, no boot code, its first MiBs zero", async () => {
    const c = caseOf("changed");
    // The DP served the changed file once, whole: not a download fault.
    expect(c.deploy!.dpRequests.filter((l) => l.includes(PKG))).toEqual([`DP1 GET ${IMAGE_FILE} 206 ${storedSize}`]);
    const disk = caseFile(c.deploy!.diskFile!);
    const log = readFileSync(caseFile(mpOf(c).uploadedLogs![0]!.file), "utf8");
    expect(log).toContain("wiped /dev/nvme0n1: its first 4 MiB");
    // zstd noticed too (its checksum, at the end); what it said is in the log, not across the screen.
    expect(log).toMatch(/ apply-image: zstd stopped .*\(zstd exit [1-9]\d*: \S[^)]*\)/);
    expect(readFileSync(caseFile(c.screenText!), "utf8")).not.toContain("stdin");
    // Independent oracles: cmp against /dev/zero, sfdisk and sgdisk find no table.
    const zeros = (skip: number, bytes: number) =>
      execa("cmp", ["-n", String(bytes), `--ignore-initial=${skip}:0`, disk, "/dev/zero"], { reject: false });
    expect((await zeros(0, 4 * MiB)).exitCode).toBe(0);
    expect((await zeros(95 * MiB, MiB)).exitCode).toBe(0);
    expect((await zeros(127 * MiB, MiB)).exitCode).toBe(0);
    expect((await execa("sfdisk", ["-J", disk], { reject: false })).exitCode).not.toBe(0);
    expect((await execa("sgdisk", ["-v", disk])).stdout).toContain("Creating new GPT entries in memory");
    // What the wipe left: the root file system the image wrote (its superblock), now on no partition.
    const superblock = (file: string) => readFileSync(file).subarray(image.root.start + 1024, image.root.start + 2048);
    expect(superblock(disk).equals(superblock(image.raw))).toBe(true);
  });

  it("no-disk and small: refused before a byte was fetched; the small disk is still all zeros", async () => {
    expect(caseOf("no-disk").deploy!.disk).toBeNull();
    for (const name of ["no-disk", "small"]) expect(caseOf(name).deploy!.dpRequests).toEqual([]);
    const disk = caseFile(caseOf("small").deploy!.diskFile!);
    const cmp = await execa("cmp", ["-n", String(64 * MiB), disk, "/dev/zero"], { reject: false });
    expect(cmp.exitCode, cmp.stdout).toBe(0);
  });
});
