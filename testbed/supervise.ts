/**
 * One QEMU run under the case's rules: serial markers and failure signatures, prompt answers,
 * a screen pattern, the silence and timeout timers, and the last screenshot — stopped the
 * moment the verdict is known (qemu-session.ts knows the machine, this the rules).
 */
import { QemuSession } from "./qemu-session.ts";
import type { SerialEvent } from "./markers.ts";
import type { QemuBinary } from "./profiles.ts";
import { PromptResponder, type PromptAnswers } from "./answers.ts";
import type { RunObservation } from "./verdict.ts";
import { findPass, type CompiledPass } from "./pass-pattern.ts";
import { screenTextOf } from "./vga-text.ts";

export interface CaseTimings {
  /** Milliseconds from spawning QEMU. */
  firstSerialMs: number | null;
  verdictMs: number;
  totalMs: number;
}

export interface SupervisedRun {
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

interface SuperviseOptions {
  timeoutSec: number;
  /** A case whose serial port stays silent this long fails at once. */
  silenceSec: number;
  onSerialEvent?: (e: SerialEvent) => void;
  /** Typed into the serial port when the matching prompt marker arrives (answers.ts). */
  answers?: PromptAnswers;
  /** The case's pass pattern; a screen pattern reads the screen every SCREEN_POLL_MS. */
  pass?: CompiledPass;
  /** A folder for QEMU's screen files (needed with a screen pattern, and for screen.txt). */
  scratch?: string;
  /**
   * A stand-alone CD/DVD set's discs (disc 1 first): a disc prompt is answered by changing the
   * disc in the drive (QMP), the one asked for, or the one its answers name ("3": disc 3).
   */
  discs?: readonly string[];
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
      if (e.marker.event === "prompt" && e.marker.for === "disc" && opts.discs) {
        const disc = Number(answer?.trim() || e.marker.disc);
        const path = opts.discs[disc - 1];
        if (path) void session.changeMedium(path);
      } else if (answer !== undefined) session.type(answer);
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
