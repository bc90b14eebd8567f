/**
 * Bare-metal deployment end to end, from two specs and a site file only (`bootmedia testbed
 * --site`): `os-image build`'s Debian 12 (x64 and x86) in the site's library, served by the real
 * DP server at http://10.0.2.200, the real MP at 10.0.2.100; four machines with a blank disk boot
 * the media, select the disk, apply the image, name it, restart; the testbed boots each again
 * from the disk alone and the installed Debian prints its marker:
 *   - x64 UEFI, Secure Boot enforced (Microsoft's keys), signed-chain media, NVMe: the installed
 *     Debian says Secure Boot is on; the kept disk is read by sgdisk -v, fsck.ext4 -n, debugfs;
 *   - x64 BIOS, SATA, with the MP gone from the policy on (mpOutage): the engine keeps its step
 *     events, the installed OS delivers them and `deployed` once the MP is back;
 *   - x64 UEFI, virtio;
 *   - x86 BIOS with the x86 image and the x86 media.
 * Needs `npm run fixtures` (the boot images) and builds (or takes from the cache) the OS images.
 */
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { deployMediaSpec } from "./testing/deploy-media.ts";
import { removeUnlessKept, runSiteFileCli, type SiteRun } from "./testing/site-run.ts";
import { buildOsImage } from "../backends/os-image-builder/build-os-image.ts";

const cache = process.env.BOOTMEDIA_CACHE ?? join(homedir(), ".cache/bootmedia");
const COMPUTER = "PC-DEPLOY";
/** The MPs come back this long after the installed OS's marker in the outage case. */
const BACK_AFTER_SEC = 20;

type CaseJson = {
  name: string;
  id: string;
  ok: boolean;
  actual: { status: string; reason?: string; detail?: string };
  taskSequence?: { problems: string[]; timeline: Array<{ name: string; state: string }> };
  deploy?: {
    installed?: Record<string, unknown>;
    deployed?: { state: string; step: number; at: number };
    boots: Array<{ what: string; serialLog: string; screenshot: string | null; milestones: Record<string, number> }>;
    diskFile?: string;
  };
};
let dir: string;
let report: string;
let run: SiteRun<CaseJson>;

const steps = (pkg: string) => `
        - { name: Pick the disk, type: select-disk }
        - { name: Apply Debian, type: apply-image, package: ${pkg} }
        - { name: Name it, type: write-files }
        - { name: Restart, type: restart }`;

beforeAll(async () => {
  await referenceImages();
  dir = await mkdtemp(join(tmpdir(), "bm-deploy-e2e-"));
  report = join(dir, "report");
  // The library os-image.e2e.test.ts builds too: one build at a time (locked), the other takes it.
  const library = join(cache, "os-image-e2e-library");
  const build = (arch: "x64" | "x86") =>
    buildOsImage({ distro: "debian-12", arch, library, workDir: join(cache, "os-image-build"), log: () => undefined });
  const x64 = await build("x64");
  const x86 = await build("x86");
  await writeFile(
    join(dir, "deploy.yaml"),
    deployMediaSpec({ name: "deploy", userDeviceAffinity: "pending", extra: "secureBoot: { chain: signed }\n" }),
  );
  await writeFile(
    join(dir, "deploy86.yaml"),
    deployMediaSpec({ name: "deploy86", bootImage: "BM100086", userDeviceAffinity: "pending" }),
  );
  await writeFile(
    join(dir, "site.yaml"),
    `site:
  siteCode: BM1
  managementPoints: [MP1]
  library: ${library}
  distributionPoints: [{ name: DP1, url: "http://10.0.2.200" }]
  computers: [{ name: ${COMPUTER}, mac: "52:54:00:12:34:56" }]
  taskSequences:
    - id: BM200010
      name: Debian 12 (x64)
      steps:${steps(x64.manifest.id)}
  deployments: [{ id: DEP-1, taskSequence: BM200010, target: all }]
  certificates: [{ media: deploy }, { media: deploy86 }]
media: { deploy: deploy.yaml, deploy86: deploy86.yaml }
cases:
  - { name: sb-nvme, media: deploy, profile: x64-uefi-sb-ms, disk: { size: 3GiB, bus: nvme, keep: true }, answers: { password: ["env:MEDIA_PW"] } }
  - name: bios-sata-mp-gone
    media: deploy
    profile: x64-bios
    disk: { size: 2GiB, bus: sata }
    mpOutage: { backAfterSec: ${BACK_AFTER_SEC} }
    answers: { password: ["env:MEDIA_PW"] }
  - { name: uefi-virtio, media: deploy, profile: x64-uefi, disk: { size: 2GiB, bus: virtio }, answers: { password: ["env:MEDIA_PW"] } }
  - name: x86-bios
    media: deploy86
    profile: x86-bios
    disk: { size: 2GiB, bus: virtio }
    answers: { password: ["env:MEDIA_PW"] }
    # The x86 media ask for the same task sequence id; this case's site gives it the x86 image.
    site:
      taskSequences:
        - id: BM200010
          name: Debian 12 (x86)
          steps:${steps(x86.manifest.id).replace(/\n {8}/g, "\n            ")}
      deployments: [{ id: DEP-86, taskSequence: BM200010, target: all }]
`,
  );
  await mkdir(report, { recursive: true });
  run = await runSiteFileCli<CaseJson>(dir, report, { MEDIA_PW: "Deploy-Horse-Battery-9" });
}, 3_600_000);

// BOOTMEDIA_KEEP_TEST_DIR=1 keeps the report, the disks and the testbed's output for a look.
afterAll(() => removeUnlessKept(dir, "deploy e2e"));

const caseOf = (name: string) => run.cases.find((c) => c.name === name)!;
const STEPS = [
  ["Pick the disk", "success"],
  ["Apply Debian", "success"],
  ["Name it", "success"],
  ["Restart", "success"],
];

describe("deploy: os-image build's Debian from a spec and a site file, four machines", () => {
  it("every case ends in the installed OS's marker after a boot from the disk alone, exit 0", () => {
    expect(
      run.cases.map((c) => [c.name, c.ok, c.actual.status]).sort(),
      `${JSON.stringify(run.cases.map((c) => c.actual))}\n${run.stderr}`,
    ).toEqual([
      ["bios-sata-mp-gone", true, "pass"],
      ["sb-nvme", true, "pass"],
      ["uefi-virtio", true, "pass"],
      ["x86-bios", true, "pass"],
    ]);
    expect(run.exitCode).toBe(0);
    const firmware = { "sb-nvme": "uefi", "bios-sata-mp-gone": "bios", "uefi-virtio": "uefi", "x86-bios": "bios" };
    for (const [name, fw] of Object.entries(firmware)) {
      const c = caseOf(name);
      expect(
        c.deploy?.boots.map((b) => b.what),
        name,
      ).toEqual(["media", "disk"]);
      expect(c.deploy?.installed, name).toMatchObject({
        event: "installed-os",
        hostname: COMPUTER,
        deployment: name === "x86-bios" ? "DEP-86" : "DEP-1",
        firmware: fw,
        secureBoot: name === "sb-nvme",
      });
      expect(c.taskSequence?.problems, name).toEqual([]);
      expect(
        c.taskSequence?.timeline.map((r) => [r.name, r.state]),
        name,
      ).toEqual(STEPS);
      expect(c.deploy?.deployed, name).toMatchObject({ state: "deployed", step: 0 });
    }
    process.stderr.write(`deploy e2e: four cases in ${(run.ms / 1000).toFixed(0)} s\n`);
  });

  it("x86: the installed system is 32-bit Debian (its kernel says i686 on the serial line)", async () => {
    const c = caseOf("x86-bios");
    const serial = await readFile(join(report, "x86-bios-e1000", c.deploy!.boots[1]!.serialLog), "utf8");
    expect(serial).toMatch(/Linux version \S+-686/);
  });

  it("MP gone after the policy: the step events and deployed reach it once it is back", async () => {
    const c = caseOf("bios-sata-mp-gone");
    const [media, disk] = c.deploy!.boots;
    // Down from the policy on, before the image was applied; back after the installed OS's marker.
    expect(media!.milestones["mps-down"]).toBeLessThan(media!.milestones["apply-start"]!);
    expect(disk!.milestones["mps-back"]).toBeGreaterThan(disk!.milestones["installed-os"]!);
    expect(disk!.milestones.deployed).toBeGreaterThan(disk!.milestones["mps-back"]!);
    // The engine could deliver nothing: it handed its events and log over at the restart.
    const serial = await readFile(join(report, "x64-bios-e1000", media!.serialLog), "utf8");
    const restart = serial
      .split("\n")
      .filter((l) => l.includes('BOOTMEDIA {"event":"restart"'))
      .map((l) => JSON.parse(l.slice(l.indexOf("{"))) as { queued: number; logSent: boolean })[0];
    expect(restart?.queued).toBeGreaterThanOrEqual(4);
    expect(restart?.logSent).toBe(false);
    // The MP's own record: the policy, then (once it was back) every queued event and deployed.
    const mpLog = JSON.parse(await readFile(join(report, "x64-bios-e1000", "cases", c.id, "mp-MP1.json"), "utf8")) as {
      requests: Array<{ method: string; path: string; result: string; status: number }>;
      status: Array<{ step: number; state: string }>;
    };
    const posts = mpLog.requests.filter((q) => q.method === "POST").map((q) => `${q.path} ${q.status}`);
    expect(posts[0]).toMatch(/policy 200/);
    expect(posts.filter((p) => /status 200/.test(p)).length).toBe(restart!.queued + 1);
    expect(mpLog.status.filter((e) => e.state !== "progress").map((e) => `${e.step}:${e.state}`)).toEqual([
      "1:start",
      "1:success",
      "2:start",
      "2:success",
      "3:start",
      "3:success",
      "4:start",
      "4:success",
      "0:success",
      "0:deployed",
    ]);
  });
  it("the disk reads clean with sgdisk, fsck.ext4 and debugfs, named as the policy said", async () => {
    const disk = join(report, "x64-uefi-sb-ms-e1000", caseOf("sb-nvme").deploy!.diskFile!);
    const v = await execa("sgdisk", ["-v", disk]);
    expect(v.stdout).toMatch(/No problems found/);
    const table = JSON.parse((await execa("sfdisk", ["-J", disk])).stdout).partitiontable as {
      sectorsize?: number;
      partitions: Array<{ start: number; size: number; type: string }>;
    };
    // The root partition (x86-64 root type), grown to the disk's end by the first boot.
    const root = table.partitions.find((p) => p.type === "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")!;
    expect(root).toBeDefined();
    const loop = (
      await execa("losetup", [
        "--find",
        "--show",
        "--read-only",
        "--offset",
        String(root.start * 512),
        "--sizelimit",
        String(root.size * 512),
        disk,
      ])
    ).stdout.trim();
    try {
      const fsck = await execa("fsck.ext4", ["-n", "-f", loop], { reject: false });
      expect(fsck.exitCode, fsck.stdout + fsck.stderr).toBe(0);
      const hostname = await execa("debugfs", ["-R", "cat /etc/hostname", loop]);
      expect(hostname.stdout.trim()).toBe(COMPUTER);
    } finally {
      await execa("losetup", ["-d", loop], { reject: false });
    }
  });
});
