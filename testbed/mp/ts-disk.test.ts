/**
 * The disk steps of the task-sequence engine (plugins/boot-image/agent/lib/ts-disk.sh, ts-image.sh) on the
 * host under busybox sh, against the real management point and the real distribution point
 * (serveLibrary, with its fault injection): select-disk over a stand-in /sys/block, apply-image
 * streaming a real zstd GPT image into a disk file, write-files and the restart handoff into a
 * folder standing in for the mounted root. Only mount, reboot and the device folder are stand-ins.
 * Oracles: sgdisk -v and sfdisk -J on the disk file, the image's bytes, openssl for the report
 * key, the MP's journal. The same engine in a real QEMU boot: testbed/mp/deploy-engine.e2e.test.ts.
 */
import { execa } from "execa";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_INIT, AGENT_LIBS, MP_AGENT_SCRIPT } from "../../plugins/boot-image/agent-files.ts";
import { startManagementPoint, type RunningMp } from "../../backends/mp/server.ts";
import { serveLibrary, type LibraryServer } from "../../plugins/distribution-point/server.ts";
import { compose, dropAfter, throttle } from "../../plugins/distribution-point/testing/faults.ts";
import { MAC, makeSite, startSiteFixture, TASK_SEQUENCE, type SiteFixture } from "./testing/fixtures.ts";
import { addTestOsImagePackage, makeTestOsImage, type TestOsImage } from "./testing/os-image.ts";

const agent = readFileSync(AGENT_INIT, "utf8");
const helpers = agent.slice(agent.indexOf("json_str()"), agent.indexOf("mount_basics()"));
const SECRET = "S3cret-Disk-Pw-42";
const MiB = 1048576;
let fx: SiteFixture;
let image: TestOsImage;
let lib: string;
let bin: string;
let runs = 0;

beforeAll(async () => {
  fx = await startSiteFixture("bm-ts-disk-");
  image = makeTestOsImage(join(fx.dir, "image"), 64);
  lib = join(fx.dir, "lib");
  addTestOsImagePackage(lib, "OSI00001", image);
  // The initramfs's PATH: busybox applets, openssl and sfdisk (zstd is found at /usr/bin, as there).
  bin = join(fx.dir, "disk-bin");
  mkdirSync(bin);
  execFileSync("/bin/busybox", ["--install", "-s", bin]);
  for (const tool of ["/usr/bin/openssl", "/usr/sbin/sfdisk"])
    execFileSync("ln", ["-s", tool, join(bin, tool.split("/").pop()!)]);
});
afterAll(async () => fx?.close());

const DEPLOY = [
  { name: "Pick the disk", type: "select-disk" },
  { name: "Apply Debian", type: "apply-image", package: "OSI00001" },
  {
    name: "Name it",
    type: "write-files",
    files: [
      { path: "/etc/motd", content: "Deployed %OSDComputerName% (%OSDTimeZone%)\n", mode: "0640" },
      { path: "/opt/new dir/x.txt", content: "x" },
    ],
  },
  { name: "Restart", type: "restart" },
  { name: "Never here", type: "run-command", command: "echo never" },
];

interface Disk {
  name: string;
  sizeMiB: number;
  removable?: boolean;
  serial?: string;
}

/** /sys/block and /dev stand-ins: each disk a sparse file of its size. */
function makeDisks(work: string, disks: Disk[]): { sys: string; dev: string } {
  const sys = join(work, "sys-block");
  const dev = join(work, "dev");
  mkdirSync(dev, { recursive: true });
  for (const d of [...disks, { name: "loop0", sizeMiB: 4096 }, { name: "sr0", sizeMiB: 4096, removable: true }]) {
    mkdirSync(join(sys, d.name, "device"), { recursive: true });
    writeFileSync(join(sys, d.name, "size"), `${d.sizeMiB * 2048}\n`);
    writeFileSync(join(sys, d.name, "removable"), d.removable ? "1\n" : "0\n");
    if (d.serial) writeFileSync(join(sys, d.name, "serial"), `${d.serial}\n`);
    writeFileSync(join(sys, d.name, "device/model"), "QEMU HARDDISK   \n");
    execFileSync("truncate", ["-s", `${d.sizeMiB}M`, join(dev, d.name)]);
  }
  return { sys, dev };
}

interface Run {
  markers: Array<Record<string, unknown> & { event: string }>;
  stdout: string;
  work: string;
  dev: string;
  target: string;
  log: string;
}

async function runDeploy(mpUrl: string, disks: Disk[]): Promise<Run> {
  const work = join(fx.dir, `run-${++runs}`);
  const media = join(work, "media");
  mkdirSync(join(media, "bootmedia"), { recursive: true });
  writeFileSync(join(media, "bootmedia/media.crt"), fx.media.certPem);
  writeFileSync(
    join(media, "bootmedia/media.json"),
    `${JSON.stringify({ schema: 1, variables: { OSDTimeZone: "UTC", Copy: `it's ${SECRET}` } }, null, 2)}\n`,
  );
  const { sys, dev } = makeDisks(work, disks);
  const target = join(work, "target");
  mkdirSync(target);
  // The scheduler's knob apply-image raises while it streams: a stand-in (never the host's).
  const sched = join(work, "sched");
  mkdirSync(sched);
  writeFileSync(join(sched, "wakeup_granularity_ns"), "1000000\n");
  const script = `say() { echo "BOOTMEDIA $1"; }
fail() { say "{\\"event\\":\\"error\\",\\"reason\\":\\"$1\\"\${2:+,$2}}"; exit 1; }
${helpers}
${AGENT_LIBS.map((f) => `. '${f}'`).join("\n")}
bring_up_network() { MP_NIC=lo; }
mount() { return 0; }
umount() { return 0; }
reboot() { echo "REBOOT $*"; exit 0; }
MEDIA='${media}'
MP_AGENT='${MP_AGENT_SCRIPT}'
SCREEN='${join(work, "screen.txt")}'
TS_DIR='${join(work, "ts")}'
TS_SYS_BLOCK='${sys}' TS_DEV='${dev}' TS_EFI_DIR='${join(work, "no-efi")}' TS_TARGET='${target}' TS_SCHED_DIR='${sched}' TS_PART_WAIT=0
REPORT_KEY='${join(work, "report.key")}' MP_RUN_DIR='${work}'
BM_MEDIA_ID=contoso-x64 BM_TASK_SEQUENCE=${TASK_SEQUENCE} BM_MP_MODE=site-based BM_MPS='${mpUrl}'
BM_UNKNOWN_COMPUTERS=false BM_UDA=none
BM_MEDIA_KEY='${fx.media.keyPem}'
BM_SECRET_VARIABLES='JoinPw'
BM_VAR_JoinPw='${SECRET}'
ask_management_points
run_task_sequence
echo after-engine`;
  const r = await execa("/bin/busybox", ["sh", "-c", script], {
    reject: false,
    timeout: 120_000,
    extendEnv: false,
    env: { PATH: bin, BM_CLIENT_MAC: MAC.known, BM_CLIENT_UUID: "" },
  });
  const markers = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("BOOTMEDIA "))
    .map((l) => JSON.parse(l.slice(10)) as Run["markers"][number]);
  const logFile = join(work, "ts/engine.log");
  return {
    markers,
    stdout: r.stdout,
    work,
    dev,
    target,
    log: existsSync(logFile) ? readFileSync(logFile, "utf8") : "",
  };
}

async function withServers<T>(
  steps: unknown[],
  intercept: Parameters<typeof serveLibrary>[0]["intercept"],
  body: (mp: RunningMp, dp: LibraryServer, stateDir: string, requests: string[]) => Promise<T>,
): Promise<T> {
  const requests: string[] = [];
  const dp = await serveLibrary({ root: lib, log: (l) => requests.push(l), ...(intercept ? { intercept } : {}) });
  const stateDir = join(fx.dir, `state-${++runs}`);
  const site = makeSite(fx.media.der, fx.stranger.der);
  const mp = await startManagementPoint({
    site: {
      ...site,
      library: lib,
      distributionPoints: [{ name: "DP1", url: dp.url }],
      taskSequences: [{ id: TASK_SEQUENCE, name: "Deploy", steps }],
    },
    name: "MP1",
    stateDir,
  });
  try {
    return await body(mp, dp, stateDir, requests);
  } finally {
    await Promise.all([mp.close(), dp.close()]);
  }
}

interface StoredEvent {
  step: number;
  state: string;
  message?: string;
}
function storedEvents(stateDir: string): StoredEvent[] {
  return readFileSync(join(stateDir, "journal.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { t: string; event?: StoredEvent & { mac: string } })
    .filter((r) => r.t === "status" && r.event?.mac === MAC.known)
    .map((r) => r.event!);
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
function readRange(file: string, start: number, length: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, start);
    return buf;
  } finally {
    closeSync(fd);
  }
}

describe("disk steps against the real MP and DP", { timeout: 180_000 }, () => {
  it("a dropped connection resumes with Range; the disk holds the image with its GPT backup at the disk's end; handoff written", async () => {
    const storedSize = readFileSync(image.stored).length;
    // Cut the first answer a third of the way, and pace all so the apply lasts over 5 s (progress).
    const intercept = compose(
      dropAfter(Math.floor(storedSize / 3), (rel) => rel.endsWith(".zst")),
      throttle(Math.ceil(storedSize / 12), (rel) => rel.endsWith(".zst")),
    );
    await withServers(DEPLOY, intercept, async (_mp, _dp, stateDir, requests) => {
      const run = await runDeploy(_mp.url, [
        { name: "sda", sizeMiB: 128, removable: true },
        { name: "vda", sizeMiB: 32, serial: "small" },
        { name: "vdb", sizeMiB: 96, serial: "QM0001" },
      ]);
      expect(run.stdout, run.log).toContain("REBOOT -f");
      const disk = join(run.dev, "vdb");
      // Independent oracles: sgdisk finds no problem (the backup header is at the disk's end),
      // sfdisk lists the image's partitions, and every byte of the root partition is the image's.
      const verify = execFileSync("sgdisk", ["-v", disk], { encoding: "utf8" });
      expect(verify).toContain("No problems found");
      const table = JSON.parse(execFileSync("sfdisk", ["-J", disk], { encoding: "utf8" })).partitiontable;
      expect(table.lastlba).toBe(96 * 2048 - 34);
      expect(table.partitions.map((p: { type: string }) => p.type)).toEqual([
        "21686148-6449-6E6F-744E-656564454649",
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",
      ]);
      expect(sha(readRange(disk, image.root.start, image.root.size))).toBe(
        sha(readRange(image.raw, image.root.start, image.root.size)),
      );
      // The download: two connections, the second from the byte the first reached; every stored byte once.
      const conns = [...run.log.matchAll(/connection (\d+) to \S+ from byte (\d+): (\d+) [^,]*, (\d+) bytes/g)];
      expect(conns.map((m) => m[3])).toEqual(["206", "206"]);
      expect(Number(conns[1]![2])).toBe(Number(conns[0]![4]));
      const transferred = conns.reduce((n, m) => n + Number(m[4]), 0);
      expect(transferred).toBe(storedSize);
      expect(requests.filter((l) => l.includes("OSI00001")).length).toBe(2);
      // Markers, events, screen.
      const steps = run.markers.filter((m) => m.event === "step").map((m) => `${m.index}:${m.state}`);
      expect(steps).toEqual([
        "1:start",
        "1:success",
        "2:start",
        "2:success",
        "3:start",
        "3:success",
        "4:start",
        "4:success",
        "5:skipped",
      ]);
      const events = storedEvents(stateDir);
      expect(events.find((e) => e.step === 1 && e.state === "success")?.message).toMatch(
        /^\/dev\/vdb, 96 MiB, QEMU HARDDISK, serial QM0001$/,
      );
      const progress = events.filter((e) => e.step === 2 && e.state === "progress");
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[0]!.message).toMatch(/^\d+ \/ 64 MiB, \d+\.\d MiB\/s, /);
      expect(run.markers.some((m) => m.event === "apply-progress" && m.total === 64 * MiB)).toBe(true);
      expect(events.find((e) => e.step === 2 && e.state === "success")?.message).toMatch(
        new RegExp(
          `^64 MiB to /dev/vdb in \\d+\\.\\d\\d s \\(.*\\); ${storedSize} bytes in 2 connection\\(s\\); sha256 ok$`,
        ),
      );
      expect(events.at(-1)).toMatchObject({ step: 0, state: "success" });
      // The wake-up granularity was raised for the stream, and the kernel's value put back.
      expect(run.log).toContain("apply-image: wake-up granularity 1000000 -> 20000000 ns");
      expect(readFileSync(join(run.work, "sched/wakeup_granularity_ns"), "utf8")).toBe("1000000\n");
      // The last progress marker: the whole image, the step's time, the boot environment's peak memory.
      const last = run.markers.filter((m) => m.event === "apply-progress").at(-1)!;
      expect(last).toMatchObject({ step: 2, written: 64 * MiB, total: 64 * MiB });
      expect(last.seconds).toBeGreaterThan(5);
      expect(last.memPeak).toBeGreaterThan(0);
      expect(run.markers.find((m) => m.event === "restart")).toEqual({
        event: "restart",
        disk: "/dev/vdb",
        deployment: expect.any(String),
        computer: "PC-KNOWN",
        queued: 0,
        bootEntry: null,
        logSent: true,
      });
      // write-files, into the stand-in root: the hostname is %OSDComputerName%, which the site's
      // deployment variables set (over the policy's computer name).
      const t = run.target;
      expect(readFileSync(join(t, "etc/hostname"), "utf8")).toBe("from-site\n");
      expect(readFileSync(join(t, "etc/hosts"), "utf8")).toBe("127.0.0.1\tlocalhost\n127.0.1.1\tfrom-site\n");
      expect(readFileSync(join(t, "etc/motd"), "utf8")).toBe("Deployed from-site (UTC)\n");
      expect(execFileSync("stat", ["-c", "%a", join(t, "etc/motd")], { encoding: "utf8" }).trim()).toBe("640");
      expect(readFileSync(join(t, "opt/new dir/x.txt"), "utf8")).toBe("x");
      const vars = readFileSync(join(t, "var/lib/bootmedia/variables.env"), "utf8");
      expect(vars).toContain("OSDComputerName='from-site'\n");
      expect(vars).toContain("OSDTargetDisk='/dev/vdb'\n");
      expect(vars).toContain("Copy='it'\\''s ***'\n");
      expect(vars).not.toContain(SECRET);
      expect(vars).not.toContain("JoinPw=");
      expect(vars).not.toContain("_SMSTS");
      // The handoff: report.env sourced by sh, the key's SPKI hash by openssl.
      const h = join(t, "var/lib/bootmedia");
      const env = execFileSync("sh", ["-c", `set -a; . '${h}/report.env'; env | grep '^BM_' | sort`], {
        encoding: "utf8",
      });
      const keySha = execFileSync("sh", ["-c", `openssl pkey -in '${h}/report.key' -pubout -outform DER | sha256sum`], {
        encoding: "utf8",
      }).split(" ")[0];
      expect(env).toContain(`BM_MAC=${MAC.known}\n`);
      expect(env).toContain(`BM_MP=${_mp.url}\n`);
      expect(env).toContain("BM_COMPUTER=PC-KNOWN\n");
      expect(env).toContain("BM_STEP_COUNT=5\n");
      expect(env).toContain(`BM_REPORT_KEY_SHA256=${keySha}\n`);
      expect(env).toMatch(/BM_RUN=[0-9a-f]{16}\n/);
      expect(Number(/BM_NEXT_SEQ=(\d+)/.exec(env)![1])).toBe(events.length + 1);
      expect(readdirSync(join(h, "queue"))).toEqual([]);
      expect(existsSync(join(h, "log.pending"))).toBe(false);
      expect(execFileSync("stat", ["-c", "%a", h, join(h, "report.key")], { encoding: "utf8" })).toBe("700\n600\n");
    });
  });

  it("the MP gone after the policy: the deployment completes; events go to queue/ in seq order, the log to log.pending", async () => {
    let closing: Promise<void> | undefined;
    await withServers(DEPLOY, undefined, async (mp, _dp, stateDir, requests) => {
      // The first image request closes the MP: the policy and the first events reached it, no more.
      const push = requests.push.bind(requests);
      requests.push = (...lines: string[]) => {
        if (!closing && lines.some((l) => l.includes("OSI00001"))) closing = mp.close();
        return push(...lines);
      };
      const run = await runDeploy(mp.url, [{ name: "vda", sizeMiB: 96 }]);
      await closing;
      expect(run.stdout, run.log).toContain("REBOOT -f");
      const stored = storedEvents(stateDir);
      const restart = run.markers.find((m) => m.event === "restart")!;
      expect(restart).toMatchObject({ logSent: false, bootEntry: null });
      const h = join(run.target, "var/lib/bootmedia");
      const queued = readdirSync(join(h, "queue"));
      expect(queued.length).toBe(restart.queued);
      expect(queued.length).toBeGreaterThan(4);
      // Every event of the run exactly once: stored at the MP, or queued, in seq order after them.
      const seqs = queued.map(
        (f) =>
          JSON.parse(readFileSync(join(h, "queue", f), "utf8")) as {
            seq: number;
            step: number;
            state: string;
            timestamp?: number;
          },
      );
      expect(queued).toEqual(seqs.map((e) => `${String(e.seq).padStart(6, "0")}.json`));
      expect(seqs.map((e) => e.seq)).toEqual(seqs.map((_, i) => stored.length + 1 + i));
      expect(seqs.at(-1)).toMatchObject({ step: 0, state: "success" });
      expect(seqs.every((e) => e.timestamp === undefined)).toBe(true);
      expect(readFileSync(join(h, "log.pending"), "utf8")).toContain("apply-image: 64 MiB to /dev/vda");
      const env = readFileSync(join(h, "report.env"), "utf8");
      expect(env).toContain(`BM_NEXT_SEQ='${stored.length + seqs.length + 1}'`);
    });
  });

  // The middle byte of the small image; the first byte of one of 8 MiB of noise, so zstd
  // refuses at once with MiBs still to come (they must still reach the hash).
  it.each([
    ["its middle byte", "small", 0.5],
    ["its first byte (zstd stops at once)", "noisy", 0],
  ] as const)(
    "the image on the DP changed by one byte (%s): image-hash-mismatch, the disk wiped (no table left), no restart",
    async (_what, which, at) => {
      const changed = join(fx.dir, `lib-changed-${which}`);
      const original = which === "small" ? image : makeTestOsImage(join(fx.dir, "noisy"), 64, { noiseMiB: 8 });
      addTestOsImagePackage(changed, "OSI00001", original);
      const file = join(changed, "packages/OSI00001/files/disk.raw.zst");
      const bytes = readFileSync(file);
      if (which === "noisy") expect(bytes.length).toBeGreaterThan(8 * MiB);
      bytes[Math.floor(bytes.length * at)]! ^= 0x01;
      writeFileSync(file, bytes);
      const saved = lib;
      lib = changed;
      try {
        await withServers(DEPLOY, undefined, async (mp, _dp, stateDir, requests) => {
          const run = await runDeploy(mp.url, [{ name: "vda", sizeMiB: 96 }]);
          expect(run.markers.at(-1)).toMatchObject({
            event: "error",
            reason: "task-sequence-failed",
            step: 2,
            code: "image-hash-mismatch",
          });
          expect(run.stdout).not.toContain("REBOOT");
          const disk = join(run.dev, "vda");
          expect(readRange(disk, 0, 4 * MiB).every((b) => b === 0)).toBe(true);
          expect(readRange(disk, 63 * MiB, MiB).every((b) => b === 0)).toBe(true);
          expect(readRange(disk, 95 * MiB, MiB).every((b) => b === 0)).toBe(true);
          // No partition table is left for sfdisk to find; sgdisk finds no GPT (it makes one in memory).
          const r = await execa("sfdisk", ["-J", disk], { reject: false });
          expect(r.exitCode).not.toBe(0);
          expect(execFileSync("sgdisk", ["-v", disk], { encoding: "utf8" })).toContain(
            "Creating new GPT entries in memory",
          );
          const failure = storedEvents(stateDir).find((e) => e.step === 2 && e.state === "failure");
          expect(failure?.message).toMatch(
            /^image-hash-mismatch: disk\.raw\.zst: sha256 [0-9a-f]{64}, the package says [0-9a-f]{64}; the disk was wiped$/,
          );
          expect(storedEvents(stateDir).at(-1)).toMatchObject({ step: 0, state: "failure" });
          expect(run.log).toMatch(
            / step 2\/5 apply-image "Apply Debian": failure: image-hash-mismatch: disk\.raw\.zst: sha256 /,
          );
          // What zstd said is in the log (not on the screen).
          expect(run.log).toMatch(/ apply-image: zstd stopped .*\(zstd exit [1-9]\d*: \S[^)]*\)/);
          // Every stored byte fetched once, in one connection: a refusing decompressor is no network fault.
          expect(requests.filter((l) => l.includes("OSI00001"))).toEqual([
            `GET /packages/OSI00001/files/disk.raw.zst 206 ${bytes.length}`,
          ]);
        });
      } finally {
        lib = saved;
      }
    },
  );

  it.each([
    [
      "no disk (only removable, loop and optical ones)",
      [{ name: "sda", sizeMiB: 128, removable: true }],
      "no-disk",
      "no-disk: no non-removable disk was found (the boot medium is never one)",
    ],
    [
      "a disk smaller than the image",
      [{ name: "vda", sizeMiB: 32 }],
      "disk-too-small",
      "disk-too-small: a non-removable disk of at least 64 MiB is needed; too small: /dev/vda (32 MiB)",
    ],
  ])("%s: refused before a byte is written or fetched", async (_what, disks, code, message) => {
    await withServers(DEPLOY, undefined, async (mp, _dp, stateDir, requests) => {
      const run = await runDeploy(mp.url, disks);
      expect(run.markers.at(-1)).toMatchObject({ event: "error", reason: "task-sequence-failed", step: 1, code });
      expect(requests.filter((l) => l.includes("OSI00001"))).toEqual([]);
      for (const d of disks) expect(readFileSync(join(run.dev, d.name)).every((b) => b === 0)).toBe(true);
      expect(storedEvents(stateDir).find((e) => e.step === 1 && e.state === "failure")?.message).toBe(message);
      expect(readFileSync(join(run.work, "screen.txt"), "utf8")).toContain(`(${code})`);
      expect(run.log).toContain(`step 1/5 select-disk "Pick the disk": failure: ${message}\n`);
    });
  });
});
