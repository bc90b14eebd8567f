/**
 * Output is never destroyed: every output is written to a temporary beside its final
 * path, fsynced, and renamed into place only when the whole build succeeded. On failure,
 * SIGINT or SIGTERM the temporaries are removed and old outputs stay byte-identical.
 * (The wizard this replaces deletes an existing .iso before it even starts.)
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { BootmediaError } from "../base/errors.ts";
import { timedSync } from "../base/timings.ts";
import { refuseSpecialOutput } from "./output-safety.ts";
import "./codes.ts";
import { processAlive } from "../base/process-alive.ts";

const TMP_MARK = ".bootmedia-";
/** Every live transaction, so a signal handler can clean them all synchronously. */
const live = new Set<OutputTransaction>();
/** Whether this process has renamed any output into place (a late signal must not deny it). */
let committedAny = false;
/** @lazy cli/main.ts's signal handler imports it dynamically (in a Promise.all knip does not follow). */
export const outputsCommitted = () => committedAny;

export class OutputTransaction {
  private readonly pending = new Map<string, string>(); // final -> temp
  private finished = false;
  private removed: string[] = [];
  /** True once aborted: writers that create many files check it between files. */
  aborted = false;
  /** True once any output was renamed into place. */
  committed = false;

  constructor(readonly force: boolean) {
    live.add(this);
  }

  /** Refuses existing outputs without --force, before any work is done. */
  static assertWritable(paths: string[], force: boolean): void {
    // Devices, FIFOs and sockets are never replaced, --force or not (drives are not outputs
    // here: the usb writer lists none and confirms instead).
    for (const p of paths) refuseSpecialOutput(p);
    if (force) return;
    const existing = paths.filter((p) => existsSync(p));
    if (existing.length > 0) {
      throw new BootmediaError("BM1010", `output exists: ${existing.join(", ")}`);
    }
  }

  /** A fresh temporary path beside `finalPath` (same filesystem, so rename is atomic). */
  async temp(finalPath: string): Promise<string> {
    if (this.aborted) throw new BootmediaError("BM4003", "build interrupted; previous outputs are untouched");
    if (this.finished) throw new Error("transaction already finished");
    OutputTransaction.assertWritable([finalPath], this.force);
    await mkdir(dirname(finalPath), { recursive: true });
    const tmp = join(dirname(finalPath), `.${basename(finalPath)}${TMP_MARK}${process.pid}.tmp`);
    timedSync("temporaries", () => {
      removeStaleTemps(dirname(finalPath));
      rmSync(tmp, { recursive: true, force: true });
    });
    this.pending.set(finalPath, tmp);
    return tmp;
  }

  /**
   * fsync and rename every temporary into place: onto a free name only (BM1010 when another
   * build took it meanwhile), or with --force over the old output (folders swap via a backup name).
   */
  commit(): string[] {
    if (this.aborted) throw new BootmediaError("BM4003", "build interrupted; previous outputs are untouched");
    const done: string[] = [];
    for (const [final, tmp] of this.pending) {
      timedSync("flush", () => syncTree(tmp));
      timedSync("rename", () => {
        if (!this.force) placeNew(tmp, final);
        else if (statSync(tmp).isDirectory() && existsSync(final)) {
          const old = join(dirname(final), `.${basename(final)}${TMP_MARK}${process.pid}.old`);
          renameSync(final, old);
          renameSync(tmp, final);
          rmSync(old, { recursive: true, force: true });
        } else {
          renameSync(tmp, final);
        }
        this.committed = committedAny = true;
        syncDir(dirname(final));
      });
      done.push(final);
    }
    this.pending.clear();
    this.finish();
    return done;
  }

  /** Removes every temporary; safe to call from a signal handler (synchronous). */
  abort(): void {
    this.aborted = true;
    for (const tmp of this.pending.values()) {
      rmSync(tmp, { recursive: true, force: true });
      this.removed.push(tmp);
    }
    this.pending.clear();
    this.finish();
  }

  /** Removes the aborted temporaries again: an I/O request already in flight may have re-created one. */
  sweep(): void {
    for (const tmp of this.removed) rmSync(tmp, { recursive: true, force: true });
  }

  private finish(): void {
    this.finished = true;
    live.delete(this);
  }
}

/** Aborts every live transaction: called on SIGINT/SIGTERM by the CLI. Returns a sweep for later. */
export function abortAllOutputs(): () => void {
  const aborted = [...live];
  for (const tx of aborted) tx.abort();
  return () => aborted.forEach((tx) => tx.sweep());
}

/** File systems without hard links (FAT, some FUSE mounts) answer link() with these. */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

/**
 * Moves `tmp` to `final` only if nothing is there: the output was free when the build
 * began, but another build (or program) may have claimed it since. Node has no no-replace
 * rename, so a file is linked (link() refuses an existing name) and its temporary name
 * dropped; a folder is renamed, which refuses a non-empty folder or a file in the way (an
 * empty folder it may replace holds nothing to lose).
 */
function placeNew(tmp: string, final: string): void {
  const taken = () =>
    new BootmediaError(
      "BM1010",
      `output exists: ${final} (it appeared while this build ran: another build or program created it)`,
      { where: final },
    );
  const isDir = statSync(tmp).isDirectory();
  try {
    if (isDir) renameSync(tmp, final);
    else {
      linkSync(tmp, final);
      unlinkSync(tmp);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code === "EEXIST" || code === "ENOTEMPTY" || (isDir && code === "ENOTDIR")) throw taken();
    if (isDir || !NO_HARD_LINKS.has(code)) throw e;
    // No hard links here: check again and rename, which leaves an instant, not a whole build, for a race.
    if (existsSync(final)) throw taken();
    renameSync(tmp, final);
  }
}

/** Temporaries left by a process that died without cleaning (SIGKILL, power loss). */
function removeStaleTemps(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = name.match(/\.bootmedia-(\d+)\.(tmp|old)$/);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1])))
      rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function syncTree(path: string): void {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path)) syncTree(join(path, name));
    syncDir(path);
  } else {
    const fd = openSync(path, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
