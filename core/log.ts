/**
 * bootmedia.log, written beside the output (the counterpart of CreateTSMedia.log): stages
 * with timings, packages, resolved content with hashes, prestart command line and
 * variables. Every line passes through the redactor, so no secret value reaches it.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Redactor } from "./secrets.ts";

export const LOG_FILE_NAME = "bootmedia.log";

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

  /** Writes the log beside `output` atomically (temp + rename). */
  save(output: string): string {
    const file = join(dirname(output), LOG_FILE_NAME);
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, this.text());
    renameSync(tmp, file);
    return file;
  }
}
