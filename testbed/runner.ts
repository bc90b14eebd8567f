/**
 * Runs one case: one QEMU process, its serial console streamed through the scanner, a
 * verdict as soon as the outcome is known, a last screenshot over QMP, then cleanup.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROFILES, DEBUG_EXIT, buildQemuArgs, type Accel, type MachineProfile, type QemuBinary } from "./profiles.ts";
import type { Marker, SerialEvent } from "./markers.ts";
import { QemuSession } from "./qemu-session.ts";
import { DEFAULT_ANSWERS, PromptResponder, type PromptAnswers } from "./answers.ts";
import { decideVerdict, matchesExpected, type Actual, type RunObservation } from "./verdict.ts";
import type { TestCase } from "./matrix.ts";
import type { Arch } from "../core/compat.ts";
import { startCaseManagementPoints, type CaseMpLog, type StartedCaseMps } from "./mp-case.ts";
import { compilePassPattern, findPass, type CompiledPass, type PassMatch } from "./pass-pattern.ts";
import { machineMemoryMiB, type MemoryOption } from "./memory.ts";
import { screenTextOf } from "./vga-text.ts";
import { judgeTaskSequenceCase, type CaseTaskSequenceReport } from "./ts-case.ts";

export interface CaseTimings {
  /** Milliseconds from spawning QEMU. */
  firstSerialMs: number | null;
  verdictMs: number;
  totalMs: number;
}

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
      id: testCase.id,
      profile: testCase.profile,
      media: {
        kind: testCase.media.kind,
        label: testCase.media.label,
        path: testCase.media.path,
        images: [...testCase.media.images],
        drivers: [...testCase.media.drivers],
      },
      nic: testCase.nic,
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

/** QEMU refusing its command line (bad media path, firmware) exits 1 before any serial byte. */
function describeFailedStart(run: SupervisedRun): string | undefined {
  const status = run.observation.exitStatus;
  if (status === null || status === 0 || status === DEBUG_EXIT.successStatus || run.timings.firstSerialMs !== null)
    return undefined;
  return `QEMU exited with status ${status}: ${run.stderr.trim().split("\n").at(-1) ?? ""}`;
}

interface SupervisedRun {
  observation: RunObservation;
  timings: CaseTimings;
  screenshot: boolean;
  stderr: string;
  startError?: string;
  prompts: Array<{ for: string; answered: boolean }>;
  /** The VGA text screen last read (a screen pattern's polls, then the last screenshot's), when in text mode. */
  screenText?: string;
}

/** How often a screen pass pattern reads the screen. */
const SCREEN_POLL_MS = 2000;

interface SuperviseOptions extends Pick<RunCaseOptions, "timeoutSec" | "silenceSec" | "onSerialEvent" | "answers"> {
  /** The case's pass pattern; a screen pattern reads the screen every SCREEN_POLL_MS. */
  pass?: CompiledPass;
  /** A folder for QEMU's screen files (needed with a screen pattern, and for screen.txt). */
  scratch?: string;
}

/**
 * Starts QEMU, watches serial and timers, stops it the moment the verdict is known: the
 * case's rules over one QEMU session (qemu-session.ts).
 */
export async function superviseQemu(
  binary: QemuBinary,
  args: string[],
  serialPath: string,
  screenshotPath: string,
  opts: SuperviseOptions,
): Promise<SupervisedRun> {
  const session = await QemuSession.start(binary, args, {
    serialLog: serialPath,
    serialPass: opts.pass?.serial,
    scratch: opts.scratch,
  });
  const obs: RunObservation = {
    markers: session.markers,
    exitStatus: null,
    timedOut: false,
    silent: false,
    timeoutSec: opts.timeoutSec,
    silenceSec: opts.silenceSec,
  };
  const responder = new PromptResponder(opts.answers);
  let verdictMs: number | null = null;
  let screenshot = false;
  let screenText: string | undefined;

  // Screenshots in order; a later one (the last screen) replaces an earlier one.
  let shots: Promise<void> = Promise.resolve();
  const shoot = (pause: boolean) => {
    shots = shots.then(async () => {
      const shot = await session.screenshot(screenshotPath, { pause });
      screenshot ||= shot.saved;
      if (shot.text !== undefined) screenText = shot.text;
    });
    return shots;
  };
  const stop = () => {
    verdictMs ??= session.elapsedMs();
    // The verdict is known: silence found later is no finding.
    clearTimeout(silenceTimer);
    void session.stop(() => shoot(false));
  };

  session.onSerialEvent((e) => {
    opts.onSerialEvent?.(e);
    if (e.kind === "marker") {
      const answer = responder.answerFor(e.marker);
      if (answer !== undefined) session.type(answer);
      if (e.marker.event === "error") stop();
      // The success exit follows "done" at once: pause, take the last screen, resume. A
      // fast machine may still exit first, so the screen at "booted" is kept as a fallback.
      else if (e.marker.event === "done") void shoot(true);
      else if (e.marker.event === "booted") void shoot(false);
    } else if (e.kind === "pass") {
      obs.passMatch ??= { source: "serial", pattern: opts.pass!.serial!.source, text: e.line };
      stop();
    } else if (!obs.failure) {
      obs.failure = { signature: e.signature, line: e.line };
      stop();
    }
  });

  /** Reads the screen until the machine stops; a match of the screen pattern is a pass. */
  const pollScreen = async (pattern: RegExp) => {
    while (!session.stopRequested && session.running) {
      const read = await session.readScreen();
      if (session.stopRequested) break;
      if (read?.mode === "text") {
        delete obs.screenNote;
        screenText = screenTextOf(read.rows);
        const found = findPass(pattern, screenText);
        if (found !== undefined) {
          obs.passMatch ??= { source: "screen", pattern: pattern.source, text: found };
          stop();
          break;
        }
      } else if (read) {
        obs.screenNote = `the screen was in graphics mode (${read.width}×${read.height}); a screen pattern reads VGA text mode only`;
      }
      await new Promise((r) => setTimeout(r, SCREEN_POLL_MS));
    }
  };

  // An image judged on its screen may rightly say nothing on the serial line.
  const silenceTimer = setTimeout(() => {
    if (!opts.pass?.screen) {
      obs.silent = true;
      stop();
    }
  }, opts.silenceSec * 1000);
  const timeoutTimer = setTimeout(() => {
    obs.timedOut = true;
    stop();
  }, opts.timeoutSec * 1000);
  void session.firstByte.then(() => clearTimeout(silenceTimer));
  const screenPolling = opts.pass?.screen && opts.scratch ? pollScreen(opts.pass.screen) : Promise.resolve();

  const end = await session.ended;
  clearTimeout(silenceTimer);
  clearTimeout(timeoutTimer);
  // QEMU ended by itself unless the testbed had already begun stopping it.
  if (end.byItself) obs.exitStatus = end.exitCode ?? null;
  verdictMs ??= session.elapsedMs();
  await screenPolling;
  await shots;
  await session.close();
  return {
    observation: obs,
    timings: { firstSerialMs: session.firstSerialMs, verdictMs, totalMs: session.elapsedMs() },
    screenshot,
    stderr: session.stderr,
    startError: end.startError,
    prompts: responder.log,
    ...(screenText !== undefined ? { screenText } : {}),
  };
}
