/**
 * Deploy bench (`npm run bench:deploy [-- --parts rate,boot,big,stages] [--profiles x64-bios,x64-uefi]
 * [--smp N] [--keep]`), TCG, figures measured side by side in one run (docs/testbed.md "Performance"):
 *  rate   apply-image of os-image build's Debian (zstd, and recompressed xz) in the guest against
 *         dd of the same raw bytes to the same NVMe disk in the same boot (the floor; goal >= 0.8x),
 *         with the boot environment's peak memory while it applies (the agent's apply-progress marker);
 *  boot   power-on to the installed OS's marker per profile, split into firmware, media boot,
 *         policy, apply, restart, installed boot (testbed deploy cases, one at a time);
 *  big    a 2 GiB image (synthetic, mostly sparse) deployed by a 512 MiB machine, checked on the host;
 *  stages (not by default: ~15 min) each stage of the pipeline on its own in the guest.
 * Default: rate, boot, big (~15 min on a quiet 2-core host, once the Debian image is cached).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { buildBenchMedia, runGuest, stepCpu, GUEST_DP, type BenchMedia } from "./deploy-guest.ts";
import { debianBenchImage } from "./deploy-images.ts";
import { bigPart, bootPart, ratePart, type MachineTweaks } from "./deploy-parts.ts";
import { parseStages, stageSteps, writeSourceDisk } from "./deploy-stages.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const parts = new Set(option("parts", "rate,boot,big").split(","));
const profiles = option("profiles", "x64-bios,x64-uefi").split(",");
const smp = Number(option("smp", "1"));
const compressions = option("compressions", "zstd,xz").split(",") as Array<"zstd" | "xz">;
const keep = args.includes("--keep");
const MIB = 1048576;
const log = (l: string) => console.error(`  … ${l}`);
const tweaks: MachineTweaks = smp > 1 ? { accel: "tcg,thread=multi", extraArgs: ["-smp", String(smp)] } : {};
const mibs = (bytes: number, s: number) => (bytes / MIB / s).toFixed(1);
const f1 = (n: number) => n.toFixed(1);

async function stages(dir: string, media: BenchMedia, library: string): Promise<void> {
  const img = await debianBenchImage(library, log);
  const source = join(dir, "source.raw");
  const layout = writeSourceDisk(source, { raw: img.raw, zst: img.stored.zstd, xz: img.stored.xz });
  const target = join(dir, "target.raw");
  execFileSync("truncate", ["-s", String(img.size + 64 * MIB), target]);
  const rel = (f: string) => f.slice(library.length + 1);
  const run = await runGuest({
    dir,
    media,
    library,
    steps: stageSteps(layout, { zst: `${GUEST_DP}/${rel(img.stored.zstd)}`, xz: `${GUEST_DP}/${rel(img.stored.xz)}` }),
    profile: "x64-uefi",
    memoryMiB: 1024,
    disk: { path: target, bus: "nvme" },
    source,
    timeoutMs: 3_600_000,
    label: "stages",
    ...tweaks,
    onMarker: (t) => {
      if (t.m.event === "step" && t.m.state !== "start") log(`stages: step ${t.m.index} ${t.m.name} ${t.m.state}`);
    },
  });
  for (const s of run.statuses.filter((s) => s.state === "failure"))
    console.log(`failed: step ${s.step}: ${s.message}`);
  console.log("\nstages: each on its own in the guest (x64 UEFI, 1024 MiB, NVMe target, source on virtio)");
  console.log("stage                          MiB       s    MiB/s  QEMU CPU s");
  const cpu = (name: string) => stepCpu(run, (m) => m.name === `stage ${name}`);
  for (const r of parseStages(run.statuses.map((s) => s.message ?? "")))
    console.log(
      `${r.name.padEnd(26)} ${(r.bytes / MIB).toFixed(0).padStart(8)} ${r.seconds.toFixed(2).padStart(7)} ${mibs(r.bytes, r.seconds).padStart(8)} ${f1(cpu(r.name)).padStart(10)}`,
    );
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "bm-bench-deploy-"));
  const t0 = performance.now();
  console.log(
    `deploy bench: TCG, -smp ${smp}${smp > 1 ? " (tcg,thread=multi)" : ""}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} at the start (a shared machine: timings are noisy)`,
  );
  try {
    const library = join(dir, "lib");
    const media = await buildBenchMedia(dir);
    const needsDebian = parts.has("rate") || parts.has("boot") || parts.has("stages");
    const img = needsDebian ? await debianBenchImage(library, log) : undefined;
    const peaks: string[] = [];
    if (parts.has("rate") && img) {
      const r = await ratePart(dir, media, library, img, compressions, tweaks, log);
      const floor = Math.min(...r.floor.map((f) => f.seconds));
      console.log(`\n1. apply-image vs the dd floor (Debian 12, ${r.bytes / MIB} MiB raw, x64 UEFI, 512 MiB, NVMe)`);
      console.log("                          s   MiB/s  x floor  QEMU CPU s");
      console.log(
        `dd floor         ${r.floor
          .map((f) => f1(f.seconds))
          .join(" / ")
          .padStart(
            13,
          )}  ${mibs(r.bytes, floor).padStart(6)}     1.00  ${r.floor.map((f) => f1(f.cpu)).join(" / ")}   (two runs, the best counts)`,
      );
      for (const { compression, applied: a } of r.applied) {
        const name = `apply-image ${compression}`;
        console.log(
          `${name.padEnd(16)} ${f1(a.seconds).padStart(13)}  ${mibs(a.bytes, a.seconds).padStart(6)}     ${(floor / a.seconds).toFixed(2)}  ${f1(a.cpu).padStart(10)}   (goal >= 0.80)`,
        );
        peaks.push(`${name}: ${(a.memPeak / MIB).toFixed(0)} MiB of 512`);
      }
      console.log(
        `dd O_DIRECT     ${f1(r.direct).padStart(13)}  ${mibs(r.bytes, r.direct).padStart(6)}   (the guest CPU never touches the bytes: QEMU's host I/O alone)`,
      );
      console.log(
        "(floor: dd bs=4M conv=fsync of the raw bytes from a read-only virtio disk, read with O_DIRECT, to the same disk)",
      );
    }
    if (parts.has("big")) {
      const b = await bigPart(dir, media, tweaks, log);
      console.log(`\n2. a ${b.size / MIB} MiB image (mostly sparse) on a ${b.memoryMiB} MiB machine`);
      console.log(
        `applied in ${f1(b.applied.seconds)} s (${mibs(b.size, b.applied.seconds)} MiB/s); sgdisk -v ${b.sgdiskClean ? "clean" : "NOT clean"}; partitions ${b.same ? "byte-identical to the image" : "DIFFER from the image"}`,
      );
      peaks.push(`${b.size / MIB} MiB image: ${(b.applied.memPeak / MIB).toFixed(0)} MiB of ${b.memoryMiB}`);
      if (!b.sgdiskClean || !b.same) process.exitCode = 1;
    }
    if (peaks.length) {
      console.log(
        "\n3. peak memory of the boot environment during apply-image (MemTotal - MemAvailable, sampled each second)",
      );
      for (const p of peaks) console.log(p);
    }
    if (parts.has("boot") && img) {
      const rows = await bootPart(dir, library, img.packages.zstd, profiles, log);
      console.log("\n4. power-on to the installed OS's marker (Debian 12 on NVMe, 512 MiB), seconds");
      const cols = ["firmware", "media boot", "policy", "disk pick", "apply", "restart", "installed boot", "total"];
      console.log(`profile    ${cols.map((c) => c.padStart(c.length < 7 ? 7 : c.length)).join(" ")}`);
      for (const row of rows) {
        console.log(
          `${row.profile.padEnd(10)} ${cols.map((c) => (row.split[c] === undefined ? "-" : f1(row.split[c]!)).padStart(c.length < 7 ? 7 : c.length)).join(" ")}${row.ok ? "" : `  FAILED: ${row.why}`}`,
        );
        if (!row.ok) process.exitCode = 1;
      }
      console.log(
        "(firmware: power-on to the first serial byte; restart: the write-files and restart steps up to the restart marker;",
      );
      console.log(
        " installed boot: the second power-on to the installed OS's marker; the gap between the two boots is not counted)",
      );
    }
    if (parts.has("stages")) await stages(dir, media, library);
    console.log(`\nbench wall time ${f1((performance.now() - t0) / 60_000)} min`);
  } finally {
    if (keep) console.error(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

await main();
