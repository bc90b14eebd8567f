/**
 * One progress interface for every long step. The CLI picks a renderer: a live line on a
 * terminal, plain lines when piped or in CI, JSON lines with --json, nothing with --quiet.
 */
export interface StageProgress {
  /** Bytes (or items) done out of total. */
  update(done: number, total: number): void;
  end(): void;
}

export interface Progress {
  stage(name: string, unit?: "bytes" | "items"): StageProgress;
  info(message: string): void;
  warn(message: string): void;
}

export const silentProgress: Progress = {
  stage: () => ({ update() {}, end() {} }),
  info() {},
  warn() {},
};

const MiB = 1024 * 1024;
const fmtAmount = (n: number, unit: string) => (unit === "bytes" ? `${(n / MiB).toFixed(1)} MiB` : String(n));

/** Plain lines (CI, pipes): a line when a stage starts, every 25 %, and when it ends with its time. */
export function plainProgress(out: NodeJS.WritableStream, json = false): Progress {
  const line = (o: Record<string, unknown>, text: string) => out.write(json ? `${JSON.stringify(o)}\n` : `${text}\n`);
  return {
    stage(name, unit = "bytes") {
      const start = performance.now();
      let lastQuarter = -1;
      let last = { done: 0, total: 0 };
      line({ event: "stage-start", stage: name }, `[${name}] started`);
      return {
        update(done, total) {
          last = { done, total };
          const q = total > 0 ? Math.floor((done / total) * 4) : 0;
          if (q > lastQuarter && q < 4) {
            lastQuarter = q;
            line(
              { event: "progress", stage: name, done, total, unit },
              `[${name}] ${fmtAmount(done, unit)} / ${fmtAmount(total, unit)}`,
            );
          }
        },
        end() {
          const ms = Math.round(performance.now() - start);
          line(
            { event: "stage-end", stage: name, ms, done: last.done, unit },
            `[${name}] done in ${ms} ms${last.total ? ` (${fmtAmount(last.done, unit)})` : ""}`,
          );
        },
      };
    },
    info: (m) => line({ event: "info", message: m }, m),
    warn: (m) => line({ event: "warning", message: m }, `warning: ${m}`),
  };
}

const fmtSeconds = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`
      : `${Math.ceil(s)}s`;

/** A live, rewritten line on a terminal, with rate and ETA. */
export function ttyProgress(out: NodeJS.WriteStream): Progress {
  return {
    stage(name, unit = "bytes") {
      const start = performance.now();
      let lastDraw = 0;
      let last = 0;
      const draw = (done: number, total: number) => {
        const secs = (performance.now() - start) / 1000;
        const pct = total > 0 ? ` ${Math.floor((done / total) * 100)}%` : "";
        const rate = unit === "bytes" && secs > 0.2 ? ` ${(done / MiB / secs).toFixed(1)} MiB/s` : "";
        // ETA from the average rate so far: steady enough for downloads, no smoothing state.
        const eta =
          unit === "bytes" && secs > 1 && done > 0 && total > done
            ? ` ETA ${fmtSeconds(((total - done) * secs) / done)}`
            : "";
        out.write(`\r\x1b[2K${name}${pct} ${fmtAmount(done, unit)}${rate}${eta}`);
      };
      draw(0, 0);
      return {
        update(done, total) {
          last = done;
          const now = performance.now();
          if (now - lastDraw > 100) {
            lastDraw = now;
            draw(done, total);
          }
        },
        end() {
          const ms = Math.round(performance.now() - start);
          out.write(`\r\x1b[2K✔ ${name} (${ms} ms${last ? `, ${fmtAmount(last, unit)}` : ""})\n`);
        },
      };
    },
    info: (m) => out.write(`${m}\n`),
    warn: (m) => out.write(`warning: ${m}\n`),
  };
}
