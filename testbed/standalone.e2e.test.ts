/**
 * Stand-alone media end to end (docs/standalone-media.md), from a spec and a site file without a
 * site (`bootmedia testbed --site`): no management point, no distribution point, and machines
 * with no NIC at all. `os-image build`'s Debian 12 (x64) and a task sequence in a content
 * library; the media carry them, encrypted with the media password:
 *   - a USB image on x64 UEFI (virtio disk): the engine decrypts the image off the media onto the
 *     disk, names the system, restarts; the installed Debian boots from the disk alone and names
 *     the deployment (the media); the engine's events and log are in the media's logs/ folder
 *     (read by mtools from the media the machine left, and by the testbed into the report);
 *   - a 3-disc CD set (80 MiB discs) on x64 BIOS (SATA disk): the image's pieces are on discs 1,
 *     2 and 3; the machine asks for disc 2 and gets disc 3 first (named, ejected, asked again),
 *     then disc 2, then asks for disc 3 — each answered by the testbed's medium change (QMP) —
 *     and the installed Debian boots from the disk alone.
 * Needs `npm run fixtures` (the boot images) and builds (or takes from the cache) the OS image.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, open, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { removeUnlessKept, runSiteFileCli, type SiteRun } from "./testing/site-run.ts";
import { debianStandaloneLibrary } from "./testing/standalone-library.ts";

const COMPUTER = "BRANCH-PC-01";
const PW = "Branch-Office-Horse-7";
/** 80 MiB discs: the 175 MiB image spans three (its pieces on discs 1, 2 and 3). */
const CD_CAPACITY = 80 * 2 ** 20;
const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: "1", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" };

type CaseJson = {
  name: string;
  id: string;
  ok: boolean;
  actual: { status: string; reason?: string; detail?: string };
  deploy?: {
    installed?: Record<string, unknown>;
    boots: Array<{ what: string; serialLog: string; milestones: Record<string, number> }>;
    diskFile?: string;
    mediaFile?: string;
    mediaLogs?: string[];
  };
};
let dir: string;
let report: string;
let run: SiteRun<CaseJson>;

beforeAll(async () => {
  await referenceImages();
  dir = await mkdtemp(join(tmpdir(), "bm-standalone-e2e-"));
  report = join(dir, "report");
  await debianStandaloneLibrary(
    dir,
    (os) => `steps:
  - { name: Pick the disk, type: select-disk }
  - { name: Apply Debian, type: apply-image, package: ${os} }
  - { name: Name it, type: write-files }
  - { name: Restart, type: restart }
`,
  );
  await writeFile(
    join(dir, "usb.yaml"),
    `name: branch-usb
bootImage: [BM100064]
taskSequence: TS000001
mediaType: standalone
contentLibrary: lib
target: { type: usb, output: branch-usb.img }
unattended: true
security: { password: { env: MEDIA_PW } }
customization: { variables: { OSDComputerName: ${COMPUTER}, OSDTimeZone: UTC } }
`,
  );
  await writeFile(
    join(dir, "cd.yaml"),
    `name: branch-cd
bootImage: [BM100064]
taskSequence: TS000001
mediaType: standalone
contentLibrary: lib
target: { type: iso, output: branch-cd.iso, capacity: ${CD_CAPACITY} }
unattended: true
security: { password: { env: MEDIA_PW } }
customization: { variables: { OSDComputerName: ${COMPUTER}, OSDTimeZone: UTC } }
`,
  );
  await writeFile(
    join(dir, "site.yaml"),
    `# No site: stand-alone media ask no management point.
media: { usb: usb.yaml, cds: cd.yaml }
cases:
  - { name: usb-uefi, media: usb, profile: x64-uefi, nic: none, disk: { size: 2GiB, bus: virtio, keep: true }, answers: { password: ["env:MEDIA_PW"] } }
  # The first disc asked for gets disc 3 (the wrong one), then disc 2; disc 3 when asked.
  - { name: cd-set-bios, media: cds, profile: x64-bios, nic: none, disk: { size: 2GiB, bus: sata }, answers: { password: ["env:MEDIA_PW"], disc: ["3", "2"] } }
`,
  );
  await mkdir(report, { recursive: true });
  run = await runSiteFileCli<CaseJson>(dir, report, { MEDIA_PW: PW });
}, 3_600_000);

// BOOTMEDIA_KEEP_TEST_DIR=1 keeps the report, the disk and the media for a look.
afterAll(() => removeUnlessKept(dir, "standalone e2e"));

const caseOf = (name: string) => run.cases.find((c) => c.name === name)!;
const markersIn = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.includes("BOOTMEDIA {"))
    .map((l) => JSON.parse(l.slice(l.indexOf("{"))) as Record<string, unknown> & { event: string });

describe("stand-alone media: deploy with no network at all", () => {
  it("USB, x64 UEFI, no NIC: the installed Debian boots from the disk alone and names the media's deployment", async () => {
    const c = caseOf("usb-uefi");
    expect([c.ok, c.actual], `${JSON.stringify(c.actual)}\n${run.stderr}`).toEqual([true, { status: "pass" }]);
    expect(run.exitCode).toBe(0);
    expect(c.deploy?.boots.map((b) => b.what)).toEqual(["media", "disk"]);
    expect(c.deploy?.installed).toMatchObject({
      event: "installed-os",
      hostname: COMPUTER,
      deployment: "branch-usb",
      firmware: "uefi",
    });
    const caseDir = join(report, "x64-uefi-none", "cases", c.id);
    // No NIC: QEMU's command line has no network device.
    const qemu = await readFile(join(caseDir, "qemu.log"), "utf8");
    expect(qemu).not.toMatch(/-netdev|-nic /);
    const markers = markersIn(await readFile(join(report, "x64-uefi-none", c.deploy!.boots[0]!.serialLog), "utf8"));
    expect(markers.find((m) => m.event === "drivers")).toMatchObject({ nic: [] });
    expect(markers.find((m) => m.event === "standalone")).toMatchObject({ result: "ok", protected: true, discs: 1 });
    expect(markers.filter((m) => m.event === "step" && m.state !== "start").map((m) => [m.name, m.state])).toEqual([
      ["Pick the disk", "success"],
      ["Apply Debian", "success"],
      ["Name it", "success"],
      ["Restart", "success"],
    ]);
    process.stderr.write(`standalone e2e: ${run.cases.length} case(s) in ${(run.ms / 1000).toFixed(0)} s\n`);
  });

  it("USB: the engine's events and log are in the media's logs/ folder (mtools reads the media the machine left)", async () => {
    const c = caseOf("usb-uefi");
    const base = join(report, "x64-uefi-none");
    const media = join(base, c.deploy!.mediaFile!);
    // The FAT partition's offset from the MBR's first entry (its LBA at byte 454).
    const mbr = Buffer.alloc(512);
    const fh = await open(media, "r");
    await fh.read(mbr, 0, 512, 0);
    await fh.close();
    const image = `${media}@@${mbr.readUInt32LE(454) * 512}`;
    const listing = await execa("mdir", ["-/", "-b", "-i", image, "::/logs"], { env: MTOOLS_ENV });
    const files = listing.stdout.split("\n").filter((l) => /\.(log|jsonl)$/.test(l));
    expect(files.map((f) => f.replace(/^.*\/logs\/[^/]+\//, "")).sort()).toEqual(["engine.log", "events.jsonl"]);
    const engineLog = files.find((f) => f.endsWith("engine.log"))!;
    const log = (await execa("mtype", ["-i", image, engineLog.replace(/^::/, "::")], { env: MTOOLS_ENV })).stdout;
    expect(log).toMatch(/apply-image: \d+ MiB to \/dev\/vda in .* off the media, decrypted; tag ok/);
    expect(log).toMatch(/the task sequence ended: 4 steps, 0 failed/);
    expect(log).not.toContain(PW);
    // The testbed kept the same files in the report.
    expect(c.deploy?.mediaLogs?.map((f) => f.replace(/^.*media-logs\/[^/]+\//, "")).sort()).toEqual([
      "engine.log",
      "events.jsonl",
    ]);
    const kept = c.deploy!.mediaLogs!.find((f) => f.endsWith("engine.log"))!;
    expect(await readFile(join(base, kept), "utf8")).toBe(`${log}\n`);
    const events = (await readFile(join(base, c.deploy!.mediaLogs!.find((f) => f.endsWith("events.jsonl"))!), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number; state: string; deploymentId: string });
    expect(events.filter((e) => e.state === "success").map((e) => e.step)).toEqual([1, 2, 3, 4, 0]);
    expect(new Set(events.map((e) => e.deploymentId))).toEqual(new Set(["branch-usb"]));
  });

  it("USB: the kept disk reads clean (sgdisk -v)", async () => {
    const c = caseOf("usb-uefi");
    const disk = join(report, "x64-uefi-none", c.deploy!.diskFile!);
    expect((await execa("sgdisk", ["-v", disk])).stdout).toMatch(/No problems found/);
  });

  it("CD set, x64 BIOS, no NIC: disc 2 asked for, disc 3 refused, disc 2 then 3 taken; the installed OS boots from the disk", async () => {
    const c = caseOf("cd-set-bios");
    expect([c.ok, c.actual], `${JSON.stringify(c.actual)}\n${run.stderr}`).toEqual([true, { status: "pass" }]);
    expect(c.deploy?.boots.map((b) => b.what)).toEqual(["media", "disk"]);
    expect(c.deploy?.installed).toMatchObject({ hostname: COMPUTER, deployment: "branch-cd", firmware: "bios" });
    const markers = markersIn(await readFile(join(report, "x64-bios-none", c.deploy!.boots[0]!.serialLog), "utf8"));
    expect(markers.find((m) => m.event === "standalone")).toMatchObject({ protected: true, discs: 3 });
    const discs = markers
      .filter((m) => (m.event === "prompt" && m.for === "disc") || m.event === "disc")
      .map((m) =>
        m.event === "prompt" ? `ask ${m.disc} of ${m.of}` : `${m.result} ${m.result === "ok" ? m.disc : m.got}`,
      );
    expect(discs).toEqual(["ask 2 of 3", "wrong disc 3 of this set", "ask 2 of 3", "ok 2", "ask 3 of 3", "ok 3"]);
    // Nothing was read from the wrong disc: the image is whole (its tag) and the steps all passed.
    expect(markers.filter((m) => m.event === "step" && m.state !== "start").map((m) => [m.name, m.state])).toEqual([
      ["Pick the disk", "success"],
      ["Apply Debian", "success"],
      ["Name it", "success"],
      ["Restart", "success"],
    ]);
    // A CD is read-only: the log's end went to the screen, nothing to the media.
    expect(markers.find((m) => m.event === "standalone-log")).toMatchObject({ path: null });
    expect(existsSync(join(report, "x64-bios-none", "cases", c.id, "media-logs"))).toBe(false);
  });
});
