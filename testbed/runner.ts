/**
 * Runs one case: one QEMU process, its serial console streamed through the scanner, a
 * verdict as soon as the outcome is known, a last screenshot over QMP, then cleanup.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROFILES, DEBUG_EXIT, buildQemuArgs, type Accel, type MachineProfile } from "./profiles.ts";
import type { Marker, SerialEvent } from "./markers.ts";
import { DEFAULT_ANSWERS, type PromptAnswers } from "./answers.ts";
import { decideVerdict, matchesExpected, type Actual } from "./verdict.ts";
import type { TestCase } from "./matrix.ts";
import type { Arch } from "../core/compat.ts";
import { startCaseManagementPoints, type CaseMpLog, type StartedCaseMps } from "./mp-case.ts";
import { compilePassPattern, type PassMatch } from "./pass-pattern.ts";
import { machineMemoryMiB, type MemoryOption } from "./memory.ts";
import { judgeTaskSequenceCase, type CaseTaskSequenceReport } from "./ts-case.ts";
import { superviseQemu, type CaseTimings, type SupervisedRun } from "./supervise.ts";
import { runDeployCase } from "./deploy-case.ts";
import type { CaseDeployReport } from "./deploy-types.ts";

export type { CaseTimings } from "./supervise.ts";

export interface CaseResult {
  id: string;
  profile: TestCase["profile"];
  media: { kind: TestCase["media"]["kind"]; label: string; path: string; images: Arch[]; drivers: string[] };
  nic: TestCase["nic"];
  expected: TestCase["expected"];
  actual: Actual;
  /** Actual matches expected, in either direction. */
  ok: boolean;
  markers: Marker[];
  exitStatus: number | null;
  /** Paths relative to the report folder. */
  serialLog: string;
  screenshot: string | null;
  timings: CaseTimings;
  /** Prompts the boot environment showed, by kind, and whether the testbed answered (never the text). */
  prompts?: Array<{ for: string; answered: boolean }>;
  /** The case's management points (MediaUnderTest.managementPoints) and what each was asked. */
  managementPoints?: CaseMpLog[];
  /** Memory the machine had (MiB). */
  memoryMiB?: number;
  /** The pass pattern the case was judged by (pass-pattern.ts), and what matched. */
  pass?: TestCase["pass"];
  passMatch?: PassMatch;
  /** The VGA text screen last read (relative path), `screen.txt`: in text mode only (BIOS). */
  screenText?: string;
  /** A task-sequence case: each step's state and times, and where the witnesses disagreed. */
  taskSequence?: CaseTaskSequenceReport;
  /** A deploy case (deploy/case.ts): both boots, the installed OS's marker, its `deployed`. */
  deploy?: CaseDeployReport;
}

interface RunCaseOptions {
  reportDir: string;
  accel: Accel;
  timeoutSec: number;
  /** A case whose serial port stays silent this long fails at once. */
  silenceSec: number;
  onSerialEvent?: (e: SerialEvent) => void;
  /** Typed into the serial port when the matching prompt marker arrives (answers.ts). */
  answers?: PromptAnswers;
  /** Machine memory: one figure or per profile (memory.ts); the case's least memory raises it. */
  memory?: MemoryOption;
}

export function caseDirOf(id: string): string {
  return join("cases", id);
}

export async function runCase(testCase: TestCase, opts: RunCaseOptions): Promise<CaseResult> {
  const profile: MachineProfile = PROFILES[testCase.profile];
  const relDir = caseDirOf(testCase.id);
  const caseDir = join(opts.reportDir, relDir);
  await mkdir(caseDir, { recursive: true });
  // UNIX socket paths are limited to 108 bytes, so the socket lives in a short temp folder.
  const scratch = await mkdtemp(join(tmpdir(), "bm-tb-"));
  let mps: StartedCaseMps | undefined;
  let mpLogs: CaseMpLog[] | undefined;
  try {
    if (testCase.media.deploy) return await deployResult(testCase, opts, caseDir, relDir, scratch);
    const varsPath = profile.flash ? join(scratch, "vars.fd") : undefined;
    if (profile.flash && varsPath) await copyFile(profile.flash.vars, varsPath);
    const memoryMiB = machineMemoryMiB(testCase.profile, opts.memory, testCase.minMemoryMiB);
    const plainArgs = buildQemuArgs({
      profile: testCase.profile,
      media: testCase.media,
      nic: testCase.nic,
      qmpSocket: join(scratch, "qmp.sock"),
      varsPath,
      accel: opts.accel,
      memoryMiB,
    });
    if (testCase.media.managementPoints) mps = await startCaseManagementPoints(testCase.media.managementPoints);
    const args = mps ? mps.applyTo(plainArgs) : plainArgs;
    const pass = compilePassPattern(testCase.pass);
    const run = await superviseQemu(profile.binary, args, join(caseDir, "serial.log"), join(caseDir, "screen.png"), {
      ...opts,
      answers: opts.answers ?? testCase.media.answers ?? DEFAULT_ANSWERS,
      pass,
      scratch,
    });
    if (run.screenText !== undefined) await writeFile(join(caseDir, "screen.txt"), run.screenText);
    await writeFile(join(caseDir, "qemu.log"), `${[profile.binary, ...args].join(" ")}\n\n${run.stderr}`);
    // Stopped once QEMU is gone, so the log holds every request the guest made.
    mpLogs = await mps?.finish(caseDir, relDir);
    mps = undefined;
    let actual = decideVerdict(run.observation);
    let expected = testCase.expected;
    let taskSequence: CaseTaskSequenceReport | undefined;
    // A case whose policy carries steps is judged by them (ts-case.ts), unless it was meant to stop before.
    if (testCase.media.taskSequence && expected.status === "pass") {
      const judged = judgeTaskSequenceCase(testCase.media.taskSequence, run.observation.markers, mpLogs ?? [], actual);
      ({ expected, actual } = judged);
      taskSequence = judged.report;
    }
    const failedStart = run.startError ?? describeFailedStart(run);
    return {
      ...caseIdentity(testCase),
      expected,
      actual: failedStart ? { status: "fail", reason: "qemu-failed", detail: failedStart } : actual,
      ok: !failedStart && matchesExpected(expected, actual),
      markers: [...run.observation.markers],
      exitStatus: run.observation.exitStatus,
      serialLog: join(relDir, "serial.log"),
      screenshot: run.screenshot ? join(relDir, "screen.png") : null,
      timings: run.timings,
      ...(run.prompts.length > 0 ? { prompts: run.prompts } : {}),
      ...(mpLogs ? { managementPoints: mpLogs } : {}),
      memoryMiB,
      ...(testCase.pass ? { pass: testCase.pass } : {}),
      ...(run.observation.passMatch ? { passMatch: run.observation.passMatch } : {}),
      ...(run.screenText !== undefined ? { screenText: join(relDir, "screen.txt") } : {}),
      ...(taskSequence ? { taskSequence } : {}),
    };
  } finally {
    await mps?.finish(caseDir, relDir).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}

/** What names a case in its result: id, profile, media and NIC. */
function caseIdentity(testCase: TestCase): Pick<CaseResult, "id" | "profile" | "media" | "nic"> {
  const m = testCase.media;
  return {
    id: testCase.id,
    profile: testCase.profile,
    media: { kind: m.kind, label: m.label, path: m.path, images: [...m.images], drivers: [...m.drivers] },
    nic: testCase.nic,
  };
}

/** A deploy case (deploy-case.ts): two boots, one result. */
async function deployResult(
  testCase: TestCase,
  opts: RunCaseOptions,
  caseDir: string,
  relDir: string,
  scratch: string,
): Promise<CaseResult> {
  const memoryMiB = machineMemoryMiB(testCase.profile, opts.memory, testCase.minMemoryMiB);
  const out = await runDeployCase(testCase, {
    caseDir,
    relDir,
    scratch,
    memoryMiB,
    accel: opts.accel,
    timeoutSec: opts.timeoutSec,
    silenceSec: opts.silenceSec,
    ...(opts.answers ? { answers: opts.answers } : {}),
    ...(opts.onSerialEvent ? { onSerialEvent: opts.onSerialEvent } : {}),
  });
  return {
    ...caseIdentity(testCase),
    expected: out.expected,
    actual: out.actual,
    ok: matchesExpected(out.expected, out.actual),
    markers: out.markers,
    exitStatus: out.exitStatus,
    serialLog: out.deploy.boots[0]!.serialLog,
    screenshot: out.screenshot,
    timings: out.timings,
    ...(out.managementPoints ? { managementPoints: out.managementPoints } : {}),
    memoryMiB,
    ...(out.taskSequence ? { taskSequence: out.taskSequence } : {}),
    ...(out.screenText !== undefined ? { screenText: out.screenText } : {}),
    deploy: out.deploy,
  };
}

/** QEMU refusing its command line (bad media path, firmware) exits 1 before any serial byte. */
function describeFailedStart(run: SupervisedRun): string | undefined {
  const status = run.observation.exitStatus;
  if (status === null || status === 0 || status === DEBUG_EXIT.successStatus || run.timings.firstSerialMs !== null)
    return undefined;
  return `QEMU exited with status ${status}: ${run.stderr.trim().split("\n").at(-1) ?? ""}`;
}
