/**
 * Copies file payloads into an image at given offsets, checking that each source still has
 * the size the plan gave it. With the native helper (native/copy-range) the copy runs inside
 * the kernel on a pool thread, so the writer lays out and writes metadata meanwhile; without
 * it the bytes go through one reused buffer on the main thread, yielding to the event loop
 * now and then. Both report the same failures; the writers turn them into coded errors.
 *
 * The image must read as zeros where nothing is copied (a new or truncated file): padding
 * after a payload is never written.
 */
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { getSystemErrorName } from "node:util";
import { reportPhase } from "../base/timings.ts";
import { copyFiles, JOB_FIELDS, NATIVE_KINDS } from "../native/copy-range/index.ts";

export interface Payload {
  /** Source file: the whole file (which must end after `length` bytes), or with `from` a piece of it. */
  path: string;
  /** Where in the source a piece starts (0 for the first); the source may go on after the piece. */
  from?: number;
  length: number;
  /** Byte offset in the image. */
  offset: number;
}

export interface PayloadFailure {
  /** Index of the payload in the list. */
  index: number;
  kind: "open" | "read" | "write" | "shrank" | "grew" | "cancelled";
  /** errno name (ENOENT, EACCES, EIO...) for open/read/write failures. */
  code?: string;
  /** Bytes of the payload copied before it failed. */
  at: number;
}

export interface PayloadCopy {
  /** Settles once copying stopped: undefined when every payload is in place. Never rejects. */
  readonly done: Promise<PayloadFailure | undefined>;
  /** Bytes copied so far. */
  copied(): number;
  /** Stops at the next chunk; `done` then reports "cancelled" (unless it already finished). */
  cancel(): void;
}

const CHUNK = 1 << 20;
const YIELD_BYTES = 64 << 20;
/** How often progress is read from the pool thread's counter. */
const PROGRESS_MS = 100;

/** `userSpace` forces the fallback (tests run both). */
export function startPayloadCopy(
  outFd: number,
  payloads: readonly Payload[],
  onProgress?: (copied: number) => void,
  opts: { userSpace?: boolean } = {},
): PayloadCopy {
  const t0 = performance.now();
  const copy =
    copyFiles && !opts.userSpace ? nativeCopy(outFd, payloads, onProgress) : userSpaceCopy(outFd, payloads, onProgress);
  // BOOTMEDIA_TIMINGS: how long the copy ran (alongside the metadata), from start to settled.
  void copy.done.then(() =>
    reportPhase(
      `copy (${copyFiles && !opts.userSpace ? "native" : "user space"}, ${(copy.copied() / 2 ** 20).toFixed(0)} MiB)`,
      performance.now() - t0,
    ),
  );
  return copy;
}

function nativeCopy(outFd: number, payloads: readonly Payload[], onProgress?: (copied: number) => void): PayloadCopy {
  const jobs = new Float64Array(payloads.length * JOB_FIELDS);
  payloads.forEach((p, i) =>
    jobs.set([i, p.length, p.offset, p.from === undefined ? 1 : 0, p.from ?? 0], i * JOB_FIELDS),
  );
  const state = new BigInt64Array(2);
  const copied = () => Number(state[0]);
  const timer = onProgress ? setInterval(() => onProgress(copied()), PROGRESS_MS) : undefined;
  const done = copyFiles!(
    outFd,
    payloads.map((p) => p.path),
    jobs,
    state,
  ).then((r) => {
    clearInterval(timer);
    onProgress?.(copied());
    if (!r) return undefined;
    const [index, kind, errno, at] = r;
    return {
      index,
      kind: NATIVE_KINDS[kind] as PayloadFailure["kind"],
      ...(errno ? { code: getSystemErrorName(-errno) } : {}),
      at,
    };
  });
  return { done, copied, cancel: () => void (state[1] = 1n) };
}

function userSpaceCopy(
  outFd: number,
  payloads: readonly Payload[],
  onProgress?: (copied: number) => void,
): PayloadCopy {
  let total = 0;
  let stop = false;
  const fail = (index: number, kind: PayloadFailure["kind"], at: number, e?: unknown): PayloadFailure => ({
    index,
    kind,
    at,
    ...(e ? { code: (e as NodeJS.ErrnoException).code ?? "EIO" } : {}),
  });
  const run = async (): Promise<PayloadFailure | undefined> => {
    const buf = Buffer.allocUnsafe(CHUNK);
    let sinceYield = 0;
    for (const [index, p] of payloads.entries()) {
      let fd: number;
      try {
        fd = openSync(p.path, "r");
      } catch (e) {
        return fail(index, "open", 0, e);
      }
      const whole = p.from === undefined;
      const from = p.from ?? 0;
      try {
        let at = 0;
        while (at < p.length) {
          if (stop) return fail(index, "cancelled", at);
          let n: number;
          try {
            n = readSync(fd, buf, 0, Math.min(CHUNK, p.length - at), from + at);
          } catch (e) {
            return fail(index, "read", at, e);
          }
          if (n === 0) return fail(index, "shrank", at);
          try {
            for (let w = 0; w < n; ) w += writeSync(outFd, buf, w, n - w, p.offset + at + w);
          } catch (e) {
            return fail(index, "write", at, e);
          }
          at += n;
          total += n;
          sinceYield += n;
          if (sinceYield >= YIELD_BYTES) {
            sinceYield = 0;
            onProgress?.(total);
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }
        if (whole && readSync(fd, buf, 0, 1, p.length) > 0) return fail(index, "grew", p.length);
      } catch (e) {
        return fail(index, "read", p.length, e);
      } finally {
        closeSync(fd);
      }
    }
    onProgress?.(total);
    return undefined;
  };
  // Started on a later turn, as the native copy is: the caller's metadata goes first.
  const done = new Promise<void>((resolve) => setImmediate(resolve)).then(run);
  return { done, copied: () => total, cancel: () => void (stop = true) };
}
