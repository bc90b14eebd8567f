/**
 * The build log, one per output, written beside it (the counterpart of CreateTSMedia.log):
 * stages with timings, packages, resolved content with hashes, prestart command line and
 * variables. Every line passes through the redactor, so no secret value reaches it.
 *
 * `<output>.bootmedia.log` belongs to the output in place: only a build that replaced the
 * output writes it. A failed build writes `<output>.failed.bootmedia.log` and leaves the
 * output's own log alone. For a drive (/dev/sdX) both go to the current folder, named
 * after the drive (the resolved target's `logFiles`, core/target.ts).
 */
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Redactor } from "./secrets.ts";

export const LOG_SUFFIX = ".bootmedia.log";
export const FAILED_LOG_SUFFIX = ".failed.bootmedia.log";

export class BuildLog {
  private readonly lines: string[] = [];
  constructor(private readonly redactor: Redactor) {}

  /** One log line: "<ISO time> [section] message". */
  write(section: string, message: string): void {
    this.lines.push(`${new Date().toISOString()} [${section}] ${message}`);
  }

  text(): string {
    return this.redactor.redact(this.lines.join("\n") + "\n");
  }

  /** Writes the log to `file` atomically (temp + rename), when its folder exists. */
  save(file: string): string | undefined {
    if (!existsSync(dirname(file))) return undefined;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, this.text());
    renameSync(tmp, file);
    return file;
  }
}
