/**
 * One running QEMU: its serial console (QEMU's stdio) saved and scanned as it streams, typed
 * input, the screen over QMP, and a stop that leaves nothing running. What a case makes of
 * it (timers, the verdict) is the runner's; this knows the machine only.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { rename } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import type { ResultPromise } from "execa";
import { startProgram } from "../core/program.ts";
import { SerialScanner, type Marker, type SerialEvent } from "./markers.ts";
import { QmpClient } from "./qmp.ts";
import { readScreen, type ScreenRead } from "./screen-text.ts";
import { screenTextOf } from "./vga-text.ts";
import { CD_DRIVE, type QemuBinary } from "./profiles.ts";

interface QemuSessionOptions {
  /** Where the serial console is saved, byte for byte. */
  serialLog: string;
  /** The serial pass pattern (pass-pattern.ts): a match is a "pass" event. */
  serialPass?: RegExp;
  /** A folder for QEMU's screen files; without it the screen is never read as text. */
  scratch?: string;
}

interface QemuEnd {
  /** QEMU's exit status; undefined when it was killed or never started. */
  exitCode: number | undefined;
  /** QEMU ended before anyone asked it to stop. */
  byItself: boolean;
  /** Why QEMU could not be started at all (no such program). */
  startError?: string;
}

type Running = ResultPromise<{ reject: false; stdin: "pipe"; buffer: false; forceKillAfterDelay: number }>;

export class QemuSession {
  /** Markers seen so far (until a stop was asked for). */
  readonly markers: Marker[] = [];
  /** Milliseconds from the start to the first serial byte. */
  firstSerialMs: number | null = null;
  /** Resolves at the first serial byte. */
  readonly firstByte: Promise<void>;
  /** QEMU's own messages (its stderr), the first 64 kB. */
  stderr = "";
  /** Resolves when QEMU has ended, after the serial console's last events. */
  readonly ended: Promise<QemuEnd>;
  private readonly t0 = performance.now();
  private readonly listeners: Array<(e: SerialEvent) => void> = [];
  private readonly waiters = new Set<{ match: (m: Marker) => boolean; resolve: (m: Marker | undefined) => void }>();
  private readonly serialFile: WriteStream;
  private readonly qmpReady: Promise<QmpClient | null>;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly proc: Running,
    args: readonly string[],
    private readonly opts: QemuSessionOptions,
  ) {
    // A guest gone before an answer is written is no error.
    proc.stdin.on("error", () => undefined);
    this.serialFile = createWriteStream(opts.serialLog);
    const scanner = new SerialScanner(opts.serialPass);
    let sawByte: () => void;
    this.firstByte = new Promise((resolve) => (sawByte = resolve));
    proc.stdout.on("data", (chunk: Buffer) => {
      if (this.firstSerialMs === null) {
        this.firstSerialMs = this.elapsedMs();
        sawByte();
      }
      this.serialFile.write(chunk);
      if (!this.stopping) for (const e of scanner.push(chunk)) this.emit(e);
    });
    proc.stderr.on("data", (chunk: Buffer) => {
      if (this.stderr.length < 64_000) this.stderr += chunk.toString();
    });
    // QEMU exiting early (a failed start, a fast BIOS reboot) ends the wait for its socket.
    const exited = new AbortController();
    const qmp = args.indexOf("-qmp");
    const qmpPath = qmp >= 0 ? args[qmp + 1]!.replace(/^unix:([^,]+),.*$/, "$1") : undefined;
    this.qmpReady = qmpPath
      ? QmpClient.connect(qmpPath, { timeoutMs: 10_000, signal: exited.signal }).catch(() => null)
      : Promise.resolve(null);
    this.ended = (async () => {
      const result = await proc;
      exited.abort();
      const byItself = this.stopping === undefined;
      if (byItself) for (const e of scanner.end()) this.emit(e);
      for (const w of this.waiters) w.resolve(undefined);
      const startError = result.failed && result.exitCode === undefined && byItself ? result.message : undefined;
      return { exitCode: result.exitCode, byItself, ...(startError ? { startError } : {}) };
    })();
  }

  /** Starts QEMU with the serial console on its stdio (`-serial stdio` or a stdio chardev); a `-qmp unix:` socket is connected to. */
  static async start(binary: QemuBinary, args: readonly string[], opts: QemuSessionOptions): Promise<QemuSession> {
    const { process } = await startProgram(binary, args, {
      reject: false,
      stdin: "pipe",
      buffer: false,
      forceKillAfterDelay: 2000,
    });
    return new QemuSession(process, args, opts);
  }

  elapsedMs(): number {
    return Math.round(performance.now() - this.t0);
  }

  /** QEMU is still running. */
  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** A stop was asked for: no serial events from here on. */
  get stopRequested(): boolean {
    return this.stopping !== undefined;
  }

  /** Calls `listener` with each serial event (markers, failure signatures, pass matches) until a stop. */
  onSerialEvent(listener: (e: SerialEvent) => void): void {
    this.listeners.push(listener);
  }

  /** The first marker from now on that `match` accepts; undefined if QEMU ends first. */
  waitForMarker(match: (m: Marker) => boolean): Promise<Marker | undefined> {
    return new Promise((resolve) => {
      const waiter = {
        match,
        resolve: (m: Marker | undefined) => {
          this.waiters.delete(waiter);
          resolve(m);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Types into the serial console (never after a stop). */
  type(text: string): void {
    if (!this.stopping) this.proc.stdin.write(text);
  }

  /**
   * Saves the screen as PNG at `path` (renamed into place only when whole, so a machine exiting
   * mid-dump leaves no half picture), paused first when asked; with a scratch folder, also the
   * screen's words when it is VGA text. Never throws: a machine that is gone has no screen.
   */
  async screenshot(path: string, opts: { pause?: boolean } = {}): Promise<{ saved: boolean; text?: string }> {
    const qmp = await this.qmpReady;
    if (!qmp) return { saved: false };
    const partial = `${path}.part`;
    try {
      if (opts.pause) await withDeadline(qmp.execute("stop"), 2000);
      await withDeadline(qmp.screendump(partial), 3000);
      await rename(partial, path);
      const read = this.opts.scratch
        ? await withDeadline(readScreen(qmp, this.opts.scratch), 3000).catch(() => undefined)
        : undefined;
      return { saved: true, ...(read?.mode === "text" ? { text: screenTextOf(read.rows) } : {}) };
    } catch {
      return { saved: false };
    } finally {
      if (opts.pause) await withDeadline(qmp.execute("cont"), 2000).catch(() => undefined);
    }
  }

  /** Reads the screen (VGA text, or the size of a graphics screen); undefined without QMP or a scratch folder. */
  async readScreen(): Promise<ScreenRead | undefined> {
    const qmp = await this.qmpReady;
    if (!qmp || !this.opts.scratch) return undefined;
    return readScreen(qmp, this.opts.scratch).catch(() => undefined);
  }

  /** Puts the disc at `path` into the CD/DVD drive (QMP blockdev-change-medium); false when QEMU refused it. */
  async changeMedium(path: string): Promise<boolean> {
    const qmp = await this.qmpReady;
    if (!qmp || !this.running) return false;
    // What a technician does: the tray opened, the disc swapped, the tray closed (QEMU does all three).
    const args = { id: CD_DRIVE, filename: path, format: "raw", "read-only-mode": "read-only" };
    return withDeadline(qmp.execute("blockdev-change-medium", args), 5000).then(
      () => true,
      () => false,
    );
  }

  /**
   * Presses the machine's power button (ACPI, QMP system_powerdown) and waits up to `ms` for
   * QEMU to exit: an installed OS shuts down cleanly, so its disk is read clean afterwards.
   * False when there is no QMP or the machine is still running after `ms`.
   */
  async powerdown(ms: number): Promise<boolean> {
    const qmp = await this.qmpReady;
    if (!qmp || !this.running) return !this.running;
    await withDeadline(qmp.execute("system_powerdown"), 2000).catch(() => undefined);
    const ended = await Promise.race([
      this.ended.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), ms)),
    ]);
    return ended;
  }

  /**
   * Stops the machine: serial events end at once, `lastLook` (a last screenshot) runs while
   * it is still there, then QMP `quit`, then SIGKILL if it is still running. Asked twice, the
   * first stop is the one.
   */
  stop(lastLook?: () => Promise<unknown>): Promise<void> {
    this.stopping ??= (async () => {
      await lastLook?.().catch(() => undefined);
      const qmp = await this.qmpReady;
      await withDeadline(qmp?.quit() ?? Promise.resolve(), 2000).catch(() => undefined);
      if (this.running) this.proc.kill("SIGKILL");
    })();
    return this.stopping;
  }

  /** After the end: waits for the stop, closes QMP, and flushes the serial log. */
  async close(): Promise<QemuEnd> {
    const end = await this.ended;
    await this.stopping;
    (await this.qmpReady)?.close();
    await new Promise<void>((resolve) => this.serialFile.end(resolve));
    this.proc.stdin.destroy();
    return end;
  }

  private emit(e: SerialEvent): void {
    if (e.kind === "marker") {
      this.markers.push(e.marker);
      for (const w of this.waiters) if (w.match(e.marker)) w.resolve(e.marker);
    }
    for (const listener of this.listeners) listener(e);
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
