/**
 * The deploy bench's parts (testbed/bench/deploy.ts): rate (apply-image against the dd floor),
 * big (a 2 GiB image on a 512 MiB machine) and boot (power-on to the installed OS, split).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { bootmedia } from "../../testing/cli.ts";
import { addTestOsImagePackage, makeTestOsImage, sha256OfFile } from "../mp/testing/os-image.ts";
import { deployMediaSpec } from "../testing/deploy-media.ts";
import { runGuest, stepCpu, type BenchMedia, type GuestOptions, type GuestRun } from "./deploy-guest.ts";
import type { BenchImage } from "./deploy-images.ts";
import { parseStages, timedStep } from "./deploy-stages.ts";

const MIB = 1048576;
export type MachineTweaks = Pick<GuestOptions, "accel" | "extraArgs">;

/** What the last apply-progress marker of a step says: the whole step's time and the peak memory. */
export interface Applied {
  seconds: number;
  memPeak: number;
  bytes: number;
  /** QEMU's CPU seconds from the step's start marker to its end marker. */
  cpu: number;
}

function applied(run: GuestRun, step: number): Applied {
  const last = run.markers.filter((t) => t.m.event === "apply-progress" && t.m.step === step).at(-1);
  const ok = run.statuses.some((s) => s.step === step && s.state === "success");
  if (!last || !ok)
    throw new Error(
      `step ${step} did not apply: ${run.statuses.find((s) => s.step === step && s.state === "failure")?.message ?? "no result"}`,
    );
  return {
    seconds: Number(last.m.seconds),
    memPeak: Number(last.m.memPeak),
    bytes: Number(last.m.total),
    cpu: stepCpu(run, (m) => m.index === step),
  };
}

/** A step timing dd of the raw bytes from the read-only virtio disk to the NVMe disk. */
const floorStep = (name: string, bytes: number, oflag: string) =>
  timedStep(
    name,
    bytes,
    `dd if=/dev/vda of=/dev/nvme0n1 bs=4M count=${bytes} iflag=count_bytes,direct ${oflag} 2>/dev/null`,
  );

export interface RateResult {
  floor: Array<{ seconds: number; cpu: number }>;
  /** dd with O_DIRECT writes: the guest's CPU never touches the bytes (QEMU's host I/O alone). */
  direct: number;
  applied: Array<{ compression: "zstd" | "xz"; applied: Applied }>;
  bytes: number;
}

/**
 * One boot: the floor (dd of the raw bytes from a read-only virtio disk to the NVMe disk, its
 * source read with O_DIRECT), apply-image zstd, apply-image xz, the floor again.
 */
export async function ratePart(
  dir: string,
  media: BenchMedia,
  library: string,
  img: BenchImage,
  compressions: Array<"zstd" | "xz">,
  tweaks: MachineTweaks,
  log: (l: string) => void,
): Promise<RateResult> {
  const target = join(dir, "rate-target.raw");
  execFileSync("truncate", ["-s", String(img.size + 64 * MIB), target]);
  const run = await runGuest({
    dir,
    media,
    library,
    steps: [
      { name: "Pick the disk", type: "select-disk", path: "/dev/nvme0n1" },
      floorStep("floor", img.size, "conv=fsync"),
      floorStep("direct", img.size, "oflag=direct conv=fsync"),
      ...compressions.map((c) => ({ name: `Apply ${c}`, type: "apply-image", package: img.packages[c] })),
      floorStep("floor", img.size, "conv=fsync"),
    ],
    profile: "x64-uefi",
    memoryMiB: 512,
    disk: { path: target, bus: "nvme" },
    source: img.raw,
    timeoutMs: 3_600_000,
    label: "rate",
    ...tweaks,
    onMarker: (t) => {
      if (t.m.event === "step" && t.m.state !== "start") log(`rate: step ${t.m.index} ${t.m.name} ${t.m.state}`);
    },
  });
  const timed = parseStages(run.statuses.map((s) => s.message ?? ""));
  const floors = timed.filter((t) => t.name === "floor");
  const direct = timed.find((t) => t.name === "direct");
  if (floors.length !== 2 || !direct)
    throw new Error(`rate: the dd steps reported ${JSON.stringify(run.statuses.at(-1))}`);
  return {
    floor: floors.map((f, i) => ({
      seconds: f.seconds,
      cpu: stepCpu(run, (m) => m.index === (i === 0 ? 2 : 4 + compressions.length)),
    })),
    direct: direct.seconds,
    applied: compressions.map((compression, i) => ({ compression, applied: applied(run, 4 + i) })),
    bytes: img.size,
  };
}

export interface BigResult {
  size: number;
  memoryMiB: number;
  applied: Applied;
  /** sgdisk -v of the disk afterwards. */
  sgdiskClean: boolean;
  /** The bytes from the first partition to the last one's end equal the image's. */
  same: boolean;
}

/** A 2 GiB image (GPT, ext4 root, mostly empty: sparse) applied by a 512 MiB machine; the disk checked on the host. */
export async function bigPart(
  dir: string,
  media: BenchMedia,
  tweaks: MachineTweaks,
  log: (l: string) => void,
): Promise<BigResult> {
  const sizeMiB = 2048;
  const memoryMiB = 512;
  const image = makeTestOsImage(join(dir, "big"), sizeMiB);
  const library = join(dir, "big-lib");
  addTestOsImagePackage(library, "OSI02048", image);
  const target = join(dir, "big-target.raw");
  execFileSync("truncate", ["-s", `${sizeMiB + 64}M`, target]);
  const run = await runGuest({
    dir,
    media,
    library,
    steps: [
      { name: "Pick the disk", type: "select-disk" },
      { name: "Apply 2 GiB", type: "apply-image", package: "OSI02048" },
    ],
    profile: "x64-uefi",
    memoryMiB,
    disk: { path: target, bus: "nvme" },
    timeoutMs: 1_800_000,
    label: "big",
    ...tweaks,
    onMarker: (t) => {
      if (t.m.event === "step" && t.m.state !== "start") log(`big: step ${t.m.index} ${t.m.name} ${t.m.state}`);
    },
  });
  const done = applied(run, 2);
  // Oracles: sgdisk reads the GPT clean (the backup moved to the disk's end), and every byte
  // from the first partition's start to the last one's end is the image's.
  const sgdisk = execFileSync("sgdisk", ["-v", target], { encoding: "utf8" });
  const parts = (
    JSON.parse(execFileSync("sfdisk", ["-J", image.raw], { encoding: "utf8" })) as {
      partitiontable: { partitions: Array<{ start: number; size: number }> };
    }
  ).partitiontable.partitions;
  const from = parts[0]!.start * 512;
  const to = Math.max(...parts.map((p) => (p.start + p.size) * 512));
  const same = sha256OfFile(target, from, to) === sha256OfFile(image.raw, from, to);
  return { size: image.size, memoryMiB, applied: done, sgdiskClean: sgdisk.includes("No problems found"), same };
}

/** A deploy case's boots as the testbed reports them (`--json`). */
interface CaseJson {
  name: string;
  ok: boolean;
  actual: { status: string; reason?: string; detail?: string };
  deploy?: { boots: Array<{ what: string; milestones: Record<string, number> }> };
}

export interface BootSplit {
  profile: string;
  ok: boolean;
  why?: string;
  /** Seconds: firmware, media boot, policy, steps before apply, apply, restart, installed boot; total. */
  split: Record<string, number>;
}

const SPLIT = [
  ["firmware", undefined, "first-serial"],
  ["media boot", "first-serial", "media-booted"],
  ["policy", "media-booted", "policy"],
  ["disk pick", "policy", "apply-start"],
  ["apply", "apply-start", "apply-end"],
  ["restart", "apply-end", "restart"],
] as const;

/**
 * Power-on to the installed OS's marker: a testbed site run (the product's own path, the CLI)
 * of one deploy case per profile, one at a time, Debian on an NVMe disk.
 */
export async function bootPart(
  dir: string,
  library: string,
  pkg: string,
  profiles: string[],
  log: (l: string) => void,
): Promise<BootSplit[]> {
  const site = join(dir, "site");
  await mkdir(site, { recursive: true });
  writeFileSync(join(site, "deploy.yaml"), deployMediaSpec({ name: "deploy", userDeviceAffinity: "pending" }));
  writeFileSync(
    join(site, "site.yaml"),
    `site:
  siteCode: BM1
  managementPoints: [MP1]
  library: ${library}
  distributionPoints: [{ name: DP1, url: "http://10.0.2.200" }]
  computers: [{ name: PC-BENCH, mac: "52:54:00:12:34:56" }]
  taskSequences:
    - id: BM200010
      name: Debian 12
      steps:
        - { name: Pick the disk, type: select-disk }
        - { name: Apply Debian, type: apply-image, package: ${pkg} }
        - { name: Name it, type: write-files }
        - { name: Restart, type: restart }
  deployments: [{ id: DEP-1, taskSequence: BM200010, target: all }]
  certificates: [{ media: deploy }]
media: { deploy: deploy.yaml }
cases:
${profiles.map((p) => `  - { name: ${p}, media: deploy, profile: ${p}, disk: { size: 3GiB, bus: nvme }, answers: { password: ["env:MEDIA_PW"] } }`).join("\n")}
`,
  );
  log(`boot: testbed --site, ${profiles.join(", ")}, one at a time`);
  const r = await bootmedia(
    ["testbed", "--site", "site.yaml", "--report-dir", join(dir, "site-report"), "--json", "--concurrency", "1"],
    { env: { MEDIA_PW: "Deploy-Horse-Battery-9" }, cwd: site },
  );
  const cases = (JSON.parse(r.stdout || "{}") as { cases?: CaseJson[] }).cases;
  if (!cases) throw new Error(`testbed --site gave no cases (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
  return cases.map((c) => {
    const [media, disk] = c.deploy?.boots ?? [];
    const m = media?.milestones ?? {};
    const split: Record<string, number> = {};
    for (const [name, from, to] of SPLIT)
      if (m[to] !== undefined && m[to] >= 0 && (from === undefined || m[from] !== undefined))
        split[name] = (m[to] - (from === undefined ? 0 : m[from]!)) / 1000;
    const installed = disk?.milestones["installed-os"];
    if (installed !== undefined) split["installed boot"] = installed / 1000;
    if (m.restart !== undefined && installed !== undefined) split.total = (m.restart + installed) / 1000;
    return {
      profile: c.name,
      ok: c.ok,
      ...(c.ok ? {} : { why: `${c.actual.reason ?? ""} ${c.actual.detail ?? ""}`.trim() }),
      split,
    };
  });
}
