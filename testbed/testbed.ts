/**
 * The testbed's API for the CLI: `runTestbed` (build the matrix, pick a shard, run cases
 * with bounded concurrency, write the report) and `mergeReports` (join shard folders).
 */
import { access } from "node:fs/promises";
import { constants } from "node:fs";
import { availableParallelism } from "node:os";
import pLimit, { type LimitFunction } from "p-limit";
import { BootmediaError } from "../base/errors.ts";
import type { HostLookup } from "../core/doctor.ts";
import { runProgram } from "../core/program.ts";
import { checkHostNeeds, hostNeedsOf } from "./host-check.ts";
import { PROFILE_IDS, PROFILES, type Accel, type ProfileId } from "./profiles.ts";
import {
  buildMatrix,
  checkNic,
  checkProfile,
  selectShard,
  sortCases,
  DEFAULT_NICS,
  type MediaUnderTest,
  type Shard,
  type TestCase,
} from "./matrix.ts";
import { runCase, type CaseResult } from "./runner.ts";
import { resolveAccel } from "./accel.ts";
import { summarizeCases, writeReport, type TestbedReport } from "./report.ts";
import { claimShardDir, reportIdentity } from "./shard-identity.ts";
import type { Marker } from "./markers.ts";
import { compilePassPattern } from "./pass-pattern.ts";
import { checkMemoryMiB, type MemoryOption } from "./memory.ts";
import "./codes.ts";

export { mergeReports } from "./shard-merge.ts";

export type TestbedEvent =
  | { type: "matrix"; total: number; selected: number; accel: Accel }
  | { type: "case-start"; id: string }
  | { type: "marker"; id: string; marker: Marker }
  | { type: "case-end"; result: CaseResult }
  | { type: "warning"; message: string }
  | { type: "report"; dir: string; report: TestbedReport };

export interface TestbedOptions {
  media: MediaUnderTest[];
  profiles?: ProfileId[];
  nics?: string[];
  /** Cases run at once; default: the number of cores. */
  concurrency?: number;
  /** A limiter shared with other runs (site files run one testbed per profile at once); wins over `concurrency`. */
  limit?: LimitFunction;
  shard?: Shard;
  reportDir: string;
  accel?: Accel;
  /** Per case; a timeout always fails the case, even after a pass marker. */
  timeoutSec?: number;
  /** A case with no serial byte at all within this long fails at once. */
  silenceSec?: number;
  /** Machine memory (MiB): one figure or per profile; default each profile's (profiles.ts). */
  memoryMiB?: MemoryOption;
  onEvent?: (e: TestbedEvent) => void;
  /** Finds host programs and firmware (default: PATH and the file system); tests give their own. */
  hostLookup?: HostLookup;
}

export const TESTBED_DEFAULTS = { timeoutSec: 180, silenceSec: 30 } as const;

export async function runTestbed(opts: TestbedOptions): Promise<TestbedReport> {
  const emit = opts.onEvent ?? (() => undefined);
  const profiles = (opts.profiles ?? [...PROFILE_IDS]).map(checkProfile);
  const nics = opts.nics ? opts.nics.map(checkNic) : [...DEFAULT_NICS];
  // Before the matrix: predicting a Secure Boot case reads its profile's certificate.
  checkHostNeeds(
    hostNeedsOf(
      profiles,
      opts.media.some((m) => m.managementPoints),
    ),
    opts.hostLookup,
  );
  const all = buildMatrix(opts.media, profiles, nics);
  const cases = opts.shard ? selectShard(all, opts.shard) : all;
  const identity = reportIdentity(all);
  checkJudging(opts, cases);
  await checkPrerequisites(cases);
  if (opts.shard) await claimShardDir(opts.reportDir, opts.shard, identity.matrix.fingerprint);
  const accel = await resolveAccel(opts.accel, (message) => emit({ type: "warning", message }));
  emit({ type: "matrix", total: all.length, selected: cases.length, accel });

  const limit = opts.limit ?? pLimit(Math.max(1, opts.concurrency ?? availableParallelism()));
  const results = await Promise.all(
    cases.map((c) =>
      limit(async () => {
        emit({ type: "case-start", id: c.id });
        const result = await runCase(c, {
          reportDir: opts.reportDir,
          accel,
          timeoutSec: opts.timeoutSec ?? TESTBED_DEFAULTS.timeoutSec,
          silenceSec: opts.silenceSec ?? TESTBED_DEFAULTS.silenceSec,
          ...(opts.memoryMiB !== undefined ? { memory: opts.memoryMiB } : {}),
          onSerialEvent: (e) => {
            if (e.kind === "marker") emit({ type: "marker", id: c.id, marker: e.marker });
          },
        });
        emit({ type: "case-end", result });
        return result;
      }),
    ),
  );

  const report: TestbedReport = {
    schema: 1,
    accel,
    shard: opts.shard ?? null,
    summary: summarizeCases(results),
    cases: sortCases(results),
    ...identity,
  };
  await writeReport(opts.reportDir, report);
  emit({ type: "report", dir: opts.reportDir, report });
  return report;
}

/** Bad patterns and memory figures are refused before any machine starts. */
function checkJudging(opts: TestbedOptions, cases: readonly TestCase[]): void {
  for (const c of cases) {
    compilePassPattern(c.pass);
    if (c.minMemoryMiB !== undefined) checkMemoryMiB(c.minMemoryMiB, c.id);
  }
  const memory = opts.memoryMiB;
  if (typeof memory === "number") checkMemoryMiB(memory, "every profile");
  else for (const [profile, mib] of Object.entries(memory ?? {})) checkMemoryMiB(mib, profile);
}

/** Fails before any machine starts when a QEMU binary does not run or a media is missing. */
async function checkPrerequisites(cases: readonly TestCase[]): Promise<void> {
  const binaries = new Set(cases.map((c) => PROFILES[c.profile].binary));
  for (const binary of binaries) {
    const found = await runProgram(binary, ["--version"], { reject: false, stdin: "ignore" });
    if (found.exitCode !== 0) {
      throw new BootmediaError("BM5001", `${binary} is not runnable: ${found.stderr || found.message}`, {
        hint: "Install Debian's qemu-system-x86 package (it provides qemu-system-i386 and qemu-system-x86_64).",
      });
    }
  }
  for (const path of new Set(cases.map((c) => c.media.path))) {
    await access(path, constants.R_OK).catch(() => {
      throw new BootmediaError("BM5003", `media ${path} is missing or unreadable`, { where: path });
    });
  }
}
