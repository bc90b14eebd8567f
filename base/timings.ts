/**
 * Phase timings for finding where a command's time goes: with BOOTMEDIA_TIMINGS=1 every
 * phase mark is printed to stderr as it ends (`timing <phase> <ms> ms`), plus one
 * `timing start-up` line (process start to the CLI's first line) and `timing total` at exit.
 * Without the variable every call is a no-op check. Benches parse these lines.
 */
const enabled = process.env.BOOTMEDIA_TIMINGS === "1";

function print(phase: string, ms: number): void {
  process.stderr.write(`timing ${phase} ${ms.toFixed(1)} ms\n`);
}

/** Marks the CLI's start: prints the time from process start (performance.timeOrigin) to now. */
export function markStartup(): void {
  if (!enabled) return;
  print("start-up", performance.now());
  process.once("exit", () => print("total", performance.now()));
}

/** Runs `fn` as phase `name` and prints its duration (also when it throws). */
export async function timed<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  if (!enabled) return fn();
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    print(name, performance.now() - t0);
  }
}

/** Synchronous `timed`. */
export function timedSync<T>(name: string, fn: () => T): T {
  if (!enabled) return fn();
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    print(name, performance.now() - t0);
  }
}

/** Prints a phase measured elsewhere (e.g. how long a pool-thread copy ran). */
export function reportPhase(name: string, ms: number): void {
  if (enabled) print(name, ms);
}
