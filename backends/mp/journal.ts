/**
 * The management point's journal: one JSON record a line, appended, fsynced before the MP
 * answers (docs/management-point.md "State"). Concurrent appends share one write and one
 * fdatasync (group commit), so 50 clients cost one disk flush per batch, not 50.
 * A torn last line (the process killed mid-append) is dropped at open, and cut off the file
 * so the next record starts on a line of its own.
 */
import { open, readFile, type FileHandle } from "node:fs/promises";
import { BootmediaError } from "../../base/errors.ts";
import "./codes.ts";

export const JOURNAL_FILE = "journal.jsonl";

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

/** Reads every whole record; `torn` is the byte length of a trailing partial line (0 if none). */
export async function readJournal(path: string): Promise<{ records: unknown[]; goodBytes: number; torn: number }> {
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return Buffer.alloc(0);
    throw e;
  });
  const end = bytes.lastIndexOf(0x0a) + 1;
  const records: unknown[] = [];
  let start = 0;
  let line = 0;
  while (start < end) {
    const nl = bytes.indexOf(0x0a, start);
    line++;
    const text = bytes.subarray(start, nl).toString("utf8");
    start = nl + 1;
    if (text === "") continue;
    try {
      records.push(JSON.parse(text));
    } catch {
      throw new BootmediaError("BM5310", `${path}: line ${line} is not a JSON record`, { where: path });
    }
  }
  return { records, goodBytes: end, torn: bytes.length - end };
}

export class Journal {
  private pending: string[] = [];
  private waiters: Waiter[] = [];
  private flushing = false;
  private broken: unknown;

  private constructor(private readonly fh: FileHandle) {}

  /** Opens for appending after `goodBytes` (what readJournal kept): a torn tail is cut off first. */
  static async open(path: string, goodBytes: number): Promise<Journal> {
    const fh = await open(path, "a+");
    const { size } = await fh.stat();
    if (size > goodBytes) {
      await fh.truncate(goodBytes);
      await fh.datasync();
    }
    return new Journal(fh);
  }

  /** Resolves once the record is on disk. */
  append(record: object): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    this.pending.push(`${JSON.stringify(record)}\n`);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.flushing) void this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0) {
      const text = this.pending.join("");
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        await this.fh.write(text);
        await this.fh.datasync();
        for (const w of waiters) w.resolve();
      } catch (e) {
        // A journal that failed once may hold half a record: refuse everything after it.
        this.broken = e;
        for (const w of [...waiters, ...this.waiters]) w.reject(e);
        this.pending = [];
        this.waiters = [];
      }
    }
    this.flushing = false;
  }

  async close(): Promise<void> {
    while (this.flushing) await new Promise((r) => setImmediate(r));
    await this.fh.close();
  }
}
