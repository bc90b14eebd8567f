/**
 * Bare-metal deployment end to end, from a spec and a site file only (`bootmedia testbed
 * --site`): `os-image build`'s Debian 12 in the site's library, served by the real DP server at
 * http://10.0.2.200, the real MP at 10.0.2.100; a blank NVMe disk on an x64 UEFI machine with
 * Secure Boot enforced (Microsoft's keys) boots signed-chain media, selects the disk, applies the
 * image, names it, restarts; the testbed boots the machine again from the disk alone and the
 * installed Debian says it runs with Secure Boot on. The kept disk is then read by independent
 * tools: sgdisk -v, fsck.ext4 -n of the root partition, debugfs for /etc/hostname.
 * Needs `npm run fixtures` (the boot images) and builds (or takes from the cache) the OS image.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../testing/cli.ts";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { REFERENCE_LIBRARY_DIR } from "../fixtures/boot-images/build.ts";
import { buildOsImage } from "../backends/os-image-builder/build-os-image.ts";

const cache = process.env.BOOTMEDIA_CACHE ?? join(homedir(), ".cache/bootmedia");
const COMPUTER = "PC-DEPLOY";
const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

type CaseJson = {
  name: string;
  id: string;
  ok: boolean;
  actual: { status: string; reason?: string; detail?: string };
  taskSequence?: { problems: string[]; timeline: Array<{ name: string; state: string }> };
  deploy?: {
    installed?: Record<string, unknown>;
    deployed?: { state: string; step: number };
    boots: Array<{ what: string; serialLog: string; screenshot: string | null; milestones: Record<string, number> }>;
    diskFile?: string;
  };
};
let dir: string;
let report: string;
let run: { exitCode: number | undefined; cases: CaseJson[]; stderr: string };

beforeAll(async () => {
  await referenceImages();
  dir = await mkdtemp(join(tmpdir(), "bm-deploy-e2e-"));
  report = join(dir, "report");
  // The library os-image.e2e.test.ts builds too: one build (locked), the other takes it.
  const library = join(cache, "os-image-e2e-library");
  const built = await buildOsImage({
    distro: "debian-12",
    arch: "x64",
    library,
    workDir: join(cache, "os-image-build"),
    log: () => undefined,
  });
  const now = Date.now();
  await writeFile(
    join(dir, "deploy.yaml"),
    `name: deploy
bootImage: [BM100064]
taskSequence: BM200010
contentLibrary: ${REFERENCE_LIBRARY_DIR}
target: { type: iso, output: deploy.iso }
unattended: true
secureBoot: { chain: signed }
managementPoints: { mode: site-based, list: [{ url: "http://10.0.2.100", priority: 1 }] }
security:
  unknownComputers: false
  userDeviceAffinity: pending
  password: { env: MEDIA_PW }
  certificate: { selfSigned: { start: ${day(now - DAY_MS)}, expire: ${day(now + 365 * DAY_MS)} } }
`,
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
      name: Debian 12
      steps:
        - { name: Pick the disk, type: select-disk }
        - { name: Apply Debian, type: apply-image, package: ${built.manifest.id} }
        - { name: Name it, type: write-files }
        - { name: Restart, type: restart }
  deployments: [{ id: DEP-1, taskSequence: BM200010, target: all }]
  certificates: [{ media: deploy }]
media: { deploy: deploy.yaml }
cases:
  - { name: sb-nvme, media: deploy, profile: x64-uefi-sb-ms, disk: { size: 3GiB, bus: nvme, keep: true }, answers: { password: ["env:MEDIA_PW"] } }
`,
  );
  await mkdir(report, { recursive: true });
  const r = await bootmedia(["testbed", "--site", "site.yaml", "--report-dir", report, "--json"], {
    env: { MEDIA_PW: "Deploy-Horse-Battery-9" },
    cwd: dir,
  });
  run = { exitCode: r.exitCode, cases: (JSON.parse(r.stdout) as { cases: CaseJson[] }).cases, stderr: r.stderr };
}, 2_400_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const caseOf = () => run.cases.find((c) => c.name === "sb-nvme")!;
const reportOf = () => join(report, "x64-uefi-sb-ms-e1000");

describe("deploy: os-image build's Debian on x64 UEFI with Secure Boot, NVMe", () => {
  it("ends in the installed OS's marker after a boot from the disk alone, Secure Boot on, exit 0", () => {
    const c = caseOf();
    expect(c.ok, `${JSON.stringify(c.actual)}\n${run.stderr}`).toBe(true);
    expect(run.exitCode).toBe(0);
    expect(c.deploy?.boots.map((b) => b.what)).toEqual(["media", "disk"]);
    expect(c.deploy?.installed).toMatchObject({
      event: "installed-os",
      hostname: COMPUTER,
      deployment: "DEP-1",
      firmware: "uefi",
      secureBoot: true,
    });
  });

  it("the MP heard every step succeed, then the installed OS's deployed", () => {
    const c = caseOf();
    expect(c.taskSequence?.problems).toEqual([]);
    expect(c.taskSequence?.timeline.map((r) => [r.name, r.state])).toEqual([
      ["Pick the disk", "success"],
      ["Apply Debian", "success"],
      ["Name it", "success"],
      ["Restart", "success"],
    ]);
    expect(c.deploy?.deployed).toMatchObject({ state: "deployed", step: 0 });
  });

  it("the disk reads clean with sgdisk, fsck.ext4 and debugfs, named as the policy said", async () => {
    const disk = join(reportOf(), caseOf().deploy!.diskFile!);
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
