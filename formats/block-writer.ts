/**
 * Buffered positional writer for image metadata: coalesces sequential writes into large ones
 * and jumps (flushing first) when the next write is elsewhere. Jumped-over bytes are not
 * written: the image file must read as zeros there (a new or truncated file).
 *
 * I/O is synchronous on purpose: metadata is many small records, and a thread-pool round
 * trip per write cost more than the writes. Every YIELD_BYTES the writer lets the event loop
 * turn, so progress and timers keep running.
 */
import { writeSync } from "node:fs";

const WRITE_BUFFER_BYTES = 2 ** 20;
/** How much is written between two turns of the event loop. */
const YIELD_BYTES = 64 * 2 ** 20;

export class BlockWriter {
  private readonly buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private fill = 0;
  /** Absolute file position of the buffer's first byte. */
  private start = 0;
  private sinceYield = 0;
  /** Bytes handed to the file so far. */
  written = 0;

  constructor(private readonly fd: number) {}

  /** Position the next byte goes to. */
  get position(): number {
    return this.start + this.fill;
  }

  /** Moves to `pos`, flushing what is buffered when the write is not sequential. */
  async seek(pos: number): Promise<void> {
    if (pos === this.position) return;
    await this.flush();
    this.start = pos;
  }

  async writeBytes(data: Uint8Array): Promise<void> {
    if (data.length < this.buf.length - this.fill) {
      this.buf.set(data, this.fill); // the usual small record: no view, no flush
      this.fill += data.length;
      return;
    }
    let done = 0;
    while (done < data.length) {
      const n = Math.min(data.length - done, this.buf.length - this.fill);
      this.buf.set(data.subarray(done, done + n), this.fill);
      this.fill += n;
      done += n;
      if (this.fill === this.buf.length) await this.flush();
    }
  }

  /** Writes the buffer out; now and then lets the event loop run. */
  private async flush(): Promise<void> {
    if (this.fill === 0) return;
    let done = 0;
    while (done < this.fill) done += writeSync(this.fd, this.buf, done, this.fill - done, this.start + done);
    this.start += this.fill;
    this.written += this.fill;
    this.sinceYield += this.fill;
    this.fill = 0;
    if (this.sinceYield >= YIELD_BYTES) {
      this.sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Flushes; every byte has reached the file when it resolves. */
  async close(): Promise<void> {
    await this.flush();
  }
}
