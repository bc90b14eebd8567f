/**
 * Runs one case: one QEMU process, its serial console streamed through the scanner, a
 * verdict as soon as the outcome is known, a last screenshot over QMP, then cleanup.
 */
import { createWriteStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { PROFILES, DEBUG_EXIT, buildQemuArgs, type Accel, type MachineProfile, type QemuBinary } from "./profiles.ts";
import { SerialScanner, type Marker, type SerialEvent } from "./markers.ts";
import { QmpClient } from "./qmp.ts";
import { DEFAULT_ANSWERS, PromptResponder, type PromptAnswers } from "./answers.ts";
import { decideVerdict, matchesExpected, type Actual, type RunObservation } from "./verdict.ts";
import type { TestCase } from "./matrix.ts";
import type { Arch } from "../core/compat.ts";
import { startProgram } from "../core/program.ts";
import { startCaseManagementPoints, type CaseMpLog, type StartedCaseMps } from "./mp-case.ts";
import { compilePassPattern, findPass, type CompiledPass, type PassMatch } from "./pass-pattern.ts";
import { machineMemoryMiB, type MemoryOption } from "./memory.ts";
import { readScreen } from "./screen-text.ts";
import { screenTextOf } from "./vga-text.ts";

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
}

export interface RunCaseOptions {
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
      profile: testCase.profile, media: testCase.media, nic: testCase.nic,
      qmpSocket: join(scratch, "qmp.sock"), varsPath, accel: opts.accel, memoryMiB,
    });
    if (testCase.media.managementPoints) mps = await startCaseManagementPoints(testCase.media.managementPoints);
    const args = mps ? mps.applyTo(plainArgs) : plainArgs;
    const pass = compilePassPattern(testCase.pass);
    const run = await superviseQemu(profile.binary, args, join(caseDir, "serial.log"), join(caseDir, "screen.png"), {
      ...opts, answers: opts.answers ?? testCase.media.answers ?? DEFAULT_ANSWERS, pass, scratch,
    });
    if (run.screenText !== undefined) await writeFile(join(caseDir, "screen.txt"), run.screenText);
    await writeFile(join(caseDir, "qemu.log"), `${[profile.binary, ...args].join(" ")}\n\n${run.stderr}`);
    // Stopped once QEMU is gone, so the log holds every request the guest made.
    mpLogs = await mps?.finish(caseDir, relDir);
    mps = undefined;
    const actual = decideVerdict(run.observation);
    const failedStart = run.startError ?? describeFailedStart(run);
    return {
      id: testCase.id,
      profile: testCase.profile,
      media: { kind: testCase.media.kind, label: testCase.media.label, path: testCase.media.path, images: [...testCase.media.images], drivers: [...testCase.media.drivers] },
      nic: testCase.nic,
      expected: testCase.expected,
      actual: failedStart ? { status: "fail", reason: "qemu-failed", detail: failedStart } : actual,
      ok: !failedStart && matchesExpected(testCase.expected, actual),
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
    };
  } finally {
    await mps?.finish(caseDir, relDir).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}

/** QEMU refusing its command line (bad media path, firmware) exits 1 before any serial byte. */
function describeFailedStart(run: SupervisedRun): string | undefined {
  const status = run.observation.exitStatus;
  if (status === null || status === 0 || status === DEBUG_EXIT.successStatus || run.timings.firstSerialMs !== null) return undefined;
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
export const SCREEN_POLL_MS = 2000;

export interface SuperviseOptions extends Pick<RunCaseOptions, "timeoutSec" | "silenceSec" | "onSerialEvent" | "answers"> {
  /** The case's pass pattern; a screen pattern reads the screen every SCREEN_POLL_MS. */
  pass?: CompiledPass;
  /** A folder for QEMU's screen files (needed with a screen pattern, and for screen.txt). */
  scratch?: string;
}

/** Starts QEMU, watches serial and timers, stops it the moment the verdict is known. */
export async function superviseQemu(
  binary: QemuBinary,
  args: string[],
  serialPath: string,
  screenshotPath: string,
  opts: SuperviseOptions,
): Promise<SupervisedRun> {
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  const markers: Marker[] = [];
  const obs: RunObservation = { markers, exitStatus: null, timedOut: false, silent: false, timeoutSec: opts.timeoutSec, silenceSec: opts.silenceSec };
  let firstSerialMs: number | null = null;
  let verdictMs: number | null = null;
  let stopping: Promise<void> | null = null;
  let screenshot = false;
  let stderr = "";

  const responder = new PromptResponder(opts.answers);
  let screenText: string | undefined;
  // The serial console is QEMU's stdio: its stdout is what the guest prints, its stdin what we type.
  const { process: proc } = await startProgram(binary, args, { reject: false, stdin: "pipe", buffer: false, forceKillAfterDelay: 2000 });
  // A guest gone before an answer is written is no error of the case.
  proc.stdin?.on("error", () => undefined);
  const serialFile = createWriteStream(serialPath);
  const scanner = new SerialScanner(opts.pass?.serial);
  // QEMU exiting early (a failed start, a fast BIOS reboot) ends the wait for its socket.
  const exited = new AbortController();
  const qmpPath = args[args.indexOf("-qmp") + 1].replace(/^unix:([^,]+),.*$/, "$1");
  const qmpReady = QmpClient.connect(qmpPath, { timeoutMs: 10_000, signal: exited.signal }).catch(() => null);

  /** Saves the screen; paused first when the machine is about to exit by itself. */
  const takeScreenshot = async (pause: boolean) => {
    const qmp = await qmpReady;
    if (!qmp) return;
    const partial = `${screenshotPath}.part`;
    try {
      if (pause) await withDeadline(qmp.execute("stop"), 2000);
      await withDeadline(qmp.screendump(partial), 3000);
      // Renamed only when complete: a machine exiting mid-dump leaves no half picture.
      await rename(partial, screenshotPath);
      screenshot = true;
      // What the last screen says, in words, when it is VGA text (screen.txt beside screen.png).
      if (opts.scratch) {
        const read = await withDeadline(readScreen(qmp, opts.scratch), 3000).catch(() => undefined);
        if (read?.mode === "text") screenText = screenTextOf(read.rows);
      }
    } catch {
      // The machine may be gone already (a pass exits by itself); the report says "no screenshot".
    } finally {
      if (pause) await withDeadline(qmp.execute("cont"), 2000).catch(() => undefined);
    }
  };
  let lastShot: Promise<void> = Promise.resolve();
  const stop = () => {
    verdictMs ??= since();
    // The verdict is known: silence found later is no finding.
    clearTimeout(silenceTimer);
    stopping ??= (async () => {
      await lastShot;
      await takeScreenshot(false);
      const qmp = await qmpReady;
      await withDeadline(qmp?.quit() ?? Promise.resolve(), 2000).catch(() => undefined);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    })();
  };
  const handle = (e: SerialEvent) => {
    opts.onSerialEvent?.(e);
    if (e.kind === "marker") {
      markers.push(e.marker);
      const answer = responder.answerFor(e.marker);
      if (answer !== undefined && !stopping) proc.stdin?.write(answer);
      if (e.marker.event === "error") stop();
      // The success exit follows "done" at once: pause, take the last screen, resume. A
      // fast machine may still exit first, so the screen at "booted" is kept as a fallback.
      else if (e.marker.event === "done") lastShot = lastShot.then(() => takeScreenshot(true));
      else if (e.marker.event === "booted") lastShot = lastShot.then(() => takeScreenshot(false));
    } else if (e.kind === "pass") {
      obs.passMatch ??= { source: "serial", pattern: opts.pass!.serial!.source, text: e.line };
      stop();
    } else if (!obs.failure) {
      obs.failure = { signature: e.signature, line: e.line };
      stop();
    }
  };

  /** Reads the screen until the machine stops; a match of the screen pattern is a pass. */
  const pollScreen = async (pattern: RegExp, scratch: string) => {
    const qmp = await qmpReady;
    while (qmp && !stopping && proc.exitCode === null) {
      const read = await readScreen(qmp, scratch).catch(() => undefined);
      if (stopping) break;
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
  const silenceTimer = setTimeout(() => { if (!opts.pass?.screen) { obs.silent = true; stop(); } }, opts.silenceSec * 1000);
  const timeoutTimer = setTimeout(() => { obs.timedOut = true; stop(); }, opts.timeoutSec * 1000);
  const screenPolling = opts.pass?.screen && opts.scratch ? pollScreen(opts.pass.screen, opts.scratch) : Promise.resolve();
  proc.stdout?.on("data", (chunk: Buffer) => {
    if (firstSerialMs === null) {
      firstSerialMs = since();
      clearTimeout(silenceTimer);
    }
    serialFile.write(chunk);
    if (!stopping) for (const e of scanner.push(chunk)) handle(e);
  });
  proc.stderr?.on("data", (chunk: Buffer) => { if (stderr.length < 64_000) stderr += chunk.toString(); });

  const result = await proc;
  exited.abort();
  clearTimeout(silenceTimer);
  clearTimeout(timeoutTimer);
  // QEMU ended by itself unless the testbed had already begun stopping it.
  const exitedByItself = stopping === null;
  if (exitedByItself) {
    obs.exitStatus = result.exitCode ?? null;
    for (const e of scanner.end()) handle(e);
  }
  verdictMs ??= since();
  await stopping;
  await screenPolling;
  await lastShot;
  (await qmpReady)?.close();
  await new Promise<void>((resolve) => serialFile.end(resolve));
  const startError = result.failed && result.exitCode === undefined && exitedByItself ? result.message : undefined;
  proc.stdin?.destroy();
  return { observation: obs, timings: { firstSerialMs, verdictMs, totalMs: since() }, screenshot, stderr, startError, prompts: responder.log, ...(screenText !== undefined ? { screenText } : {}) };
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}
