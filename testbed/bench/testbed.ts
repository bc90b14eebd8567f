/**
 * Testbed bench (`npm run bench:testbed [-- --media grub|reference] [--reps N]`), figures side by side:
 *  1. per profile, boot-to-verdict through the testbed vs a bare QEMU command booting the
 *     same media to the same success exit (target: <= 10 % overhead);
 *  2. verdict time of incompatible cases, Secure Boot refusals among them (targets: <= 3 s BIOS, <= 6 s UEFI);
 *  3. matrix wall time vs the sum of case times / concurrency (target: <= 1.1x).
 */
import { execa } from "execa";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { PROFILE_IDS, PROFILES, buildQemuArgs, DEBUG_EXIT, type MachineProfile, type ProfileId } from "../profiles.ts";
import { buildMatrix, type MediaUnderTest } from "../matrix.ts";
import { runCase } from "../runner.ts";
import { runTestbed } from "../testbed.ts";
import { makeGrubTestMedia } from "../testing/media.ts";
import { hasReferencePackages } from "../testing/reference-media.ts";
import { describeMedia } from "../media-from-inputs.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const mediaKind = option("media", hasReferencePackages() ? "reference" : "grub");
const reps = Number(option("reps", "1"));
const CASE_LIMITS = { timeoutSec: 240, silenceSec: 60 };

/** The product's own media: fixtures/specs/reference.yaml built by the CLI (unattended: no prompts to answer). */
async function buildWithCli(
  dir: string,
  label: string,
  bootImage: string,
  machines: string[],
): Promise<MediaUnderTest> {
  const out = join(dir, `${label}.iso`);
  await execa("node", [
    "bin/bootmedia.js",
    "build",
    "fixtures/specs/reference.yaml",
    "--boot-image",
    bootImage,
    "--target",
    "iso",
    "--out",
    out,
    "--unattended",
    "--quiet",
    ...machines.flatMap((m) => ["--machine", `${m}:e1000`]),
  ]);
  return describeMedia(out, label);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sec = (ms: number) => (ms / 1000).toFixed(2);

/** The same command line, minus QMP: what someone would type to boot the media by hand. */
async function bootBare(profile: ProfileId, media: MediaUnderTest, dir: string): Promise<number> {
  const p = PROFILES[profile];
  const varsPath = p.flash ? join(dir, `bare-${profile}.fd`) : undefined;
  if (p.flash && varsPath) await copyFile(p.flash.vars, varsPath);
  const full = buildQemuArgs({ profile, media, nic: "e1000", qmpSocket: "unused", varsPath, accel: "tcg" });
  const q = full.indexOf("-qmp");
  const argv = [...full.slice(0, q), ...full.slice(q + 2)];
  const t0 = performance.now();
  const r = await execa(p.binary, argv, {
    reject: false,
    stdin: "ignore",
    stdout: "ignore",
    timeout: CASE_LIMITS.timeoutSec * 1000,
  });
  if (r.exitCode !== DEBUG_EXIT.successStatus) throw new Error(`bare ${profile} boot ended with ${r.exitCode}`);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "bm-bench-"));
  try {
    const both: MediaUnderTest =
      mediaKind === "reference"
        ? await buildWithCli(dir, "both", "BM100086,BM100064", ["x86-bios", "x64-bios", "x86-uefi", "x64-uefi"])
        : {
            kind: "iso",
            label: "both",
            images: ["x86", "x64"],
            drivers: ["e1000"],
            path: await makeGrubTestMedia(dir, "both", ["x86", "x64"]),
          };
    const x64: MediaUnderTest =
      mediaKind === "reference"
        ? await buildWithCli(dir, "x64", "BM100064", ["x64-bios", "x64-uefi"])
        : {
            kind: "iso",
            label: "x64",
            images: ["x64"],
            drivers: ["e1000"],
            path: await makeGrubTestMedia(dir, "x64", ["x64"]),
          };
    console.log(
      `media: ${mediaKind}, TCG, ${reps} rep(s) per figure (median), load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`,
    );

    console.log("1. boot to verdict, testbed vs bare QEMU (target <= 10 %)");
    console.log("profile    testbed s  bare s  overhead");
    // Secure Boot profiles refuse these (unsigned) media: they are timed in part 2.
    for (const profile of PROFILE_IDS.filter((p) => !(PROFILES[p] as MachineProfile).secureBoot)) {
      const [c] = buildMatrix([both], [profile], ["e1000"]);
      const tb: number[] = [];
      const bare: number[] = [];
      for (let i = 0; i < reps; i++) {
        // Alternate which goes first, so background load hits both alike.
        if (i % 2 === 1) bare.push(await bootBare(profile, both, dir));
        const r = await runCase(c, { reportDir: join(dir, "cases"), accel: "tcg", ...CASE_LIMITS });
        if (!r.ok) throw new Error(`${c.id}: ${JSON.stringify(r.actual)}`);
        tb.push(r.timings.verdictMs);
        if (i % 2 === 0) bare.push(await bootBare(profile, both, dir));
      }
      const over = (median(tb) / median(bare) - 1) * 100;
      console.log(
        `${profile.padEnd(10)} ${sec(median(tb)).padStart(9)} ${sec(median(bare)).padStart(7)} ${over.toFixed(1).padStart(8)} %`,
      );
    }

    console.log("\n2. verdict time of incompatible cases (targets: BIOS <= 3 s, UEFI <= 6 s)");
    // x86 machines meet x64-only media; Secure Boot machines meet unsigned GRUB (refused by the firmware's signature check).
    for (const profile of ["x86-bios", "x86-uefi", "x64-uefi-sb-ms", "x64-uefi-sb-own"] as const) {
      const [c] = buildMatrix([x64], [profile], ["e1000"]);
      const times: number[] = [];
      for (let i = 0; i < reps; i++)
        times.push(
          (await runCase(c, { reportDir: join(dir, "cases"), accel: "tcg", ...CASE_LIMITS })).timings.verdictMs,
        );
      const target = PROFILES[profile].machine.firmware === "bios" ? 3 : 6;
      console.log(
        `${c.id.padEnd(22)} ${sec(median(times))} s (target ${target} s) expected ${JSON.stringify(c.expected)}`,
      );
    }

    console.log("\n3. matrix wall time vs sum of case times / concurrency (target <= 1.1x)");
    const concurrency = 2;
    const t0 = performance.now();
    const report = await runTestbed({
      media: [both, x64],
      nics: ["e1000"],
      concurrency,
      reportDir: join(dir, "matrix"),
      ...CASE_LIMITS,
    });
    const wall = performance.now() - t0;
    const sum = report.cases.reduce((t, c) => t + c.timings.totalMs, 0);
    console.log(
      `${report.cases.length} cases, ${report.summary.ok} as expected; wall ${sec(wall)} s, sum/concurrency ${sec(sum / concurrency)} s, ratio ${(wall / (sum / concurrency)).toFixed(2)}x`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
