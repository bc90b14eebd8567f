/**
 * Buffered positional writer: coalesces sequential writes into large ones and lets file
 * data be read straight into its buffer (no per-chunk copies). Two buffers alternate, so
 * reading the next chunk overlaps writing the last one.
 */
import { readSync, write } from "node:fs";
import { promisify } from "node:util";

const writeAsync = promisify(write);

export const WRITE_BUFFER_BYTES = 4 * 2 ** 20;

export class BlockWriter {
  private buffers = [Buffer.allocUnsafe(WRITE_BUFFER_BYTES), Buffer.allocUnsafe(WRITE_BUFFER_BYTES)];
  private current = 0;
  private fill = 0;
  /** Absolute file position of the current buffer's first byte. */
  private start = 0;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(private readonly fd: number) {}

  private get buf(): Buffer { return this.buffers[this.current]; }

  /** Position the next byte goes to. */
  get position(): number { return this.start + this.fill; }

  /** Moves to `pos`, flushing what is buffered when the write is not sequential. */
  async seek(pos: number): Promise<void> {
    if (pos === this.position) return;
    await this.flush();
    this.start = pos;
  }

  async writeBytes(data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const n = Math.min(data.length - done, this.buf.length - this.fill);
      this.buf.set(data.subarray(done, done + n), this.fill);
      this.fill += n;
      done += n;
      if (this.fill === this.buf.length) await this.flush();
    }
  }

  async writeZeros(count: number): Promise<void> {
    while (count > 0) {
      const n = Math.min(count, this.buf.length - this.fill);
      this.buf.fill(0, this.fill, this.fill + n);
      this.fill += n;
      count -= n;
      if (this.fill === this.buf.length) await this.flush();
    }
  }

  /**
   * Copies up to `count` bytes of `srcFd` (from its current position) into the stream.
   * Returns the bytes read; fewer than asked means the source ended early. Reads are
   * synchronous on purpose: they overlap the other buffer's write running in libuv's pool,
   * and skip a thread-pool round trip per read (thousands of small files).
   */
  async copyFrom(srcFd: number, count: number, onChunk?: (n: number) => void): Promise<number> {
    let done = 0;
    while (done < count) {
      const want = Math.min(count - done, this.buf.length - this.fill);
      const bytesRead = readSync(srcFd, this.buf, this.fill, want, null);
      if (bytesRead === 0) break;
      this.fill += bytesRead;
      done += bytesRead;
      onChunk?.(bytesRead);
      if (this.fill === this.buf.length) await this.flush();
    }
    return done;
  }

  /** Starts writing the current buffer and switches to the other one (waits for its last write). */
  async flush(): Promise<void> {
    if (this.fill === 0) return;
    await this.pending;
    const buf = this.buf, len = this.fill, pos = this.start;
    const p = writeAll(this.fd, buf, len, pos);
    p.catch(() => {}); // surfaced by the next flush() or close(), never as an unhandled rejection
    this.pending = p;
    this.current ^= 1;
    this.start += len;
    this.fill = 0;
  }

  /** Flushes and waits until every byte reached the file. */
  async close(): Promise<void> {
    await this.flush();
    await this.pending;
  }
}

async function writeAll(fd: number, buf: Buffer, len: number, pos: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const { bytesWritten } = await writeAsync(fd, buf, done, len - done, pos + done);
    done += bytesWritten;
  }
}
