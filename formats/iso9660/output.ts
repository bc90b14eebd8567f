/**
 * Sequential image output with one large buffer: metadata is copied in, file payloads are
 * read straight into the buffer, and the buffer goes to disk in one write when full. Memory
 * stays at the buffer size however large the image grows.
 */
import { createHash, type Hash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { SECTOR } from "./records.ts";

/** 4 MiB: large enough that syscall overhead vanishes, small enough to keep RSS flat. */
export const CHUNK_BYTES = 4 << 20;

export class ImageOutput {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  /** Double buffering: one buffer fills while the other is being written (both run on libuv's pool). */
  private spare = Buffer.allocUnsafe(CHUNK_BYTES);
  private pending: Promise<void> | null = null;
  private failure: unknown = null;
  private used = 0;
  /** Bytes already handed to the file. */
  private flushed = 0;
  private hash: Hash | undefined;

  constructor(
    private readonly fh: FileHandle,
    private readonly totalBytes: number,
    private readonly onProgress?: (written: number, total: number) => void,
    sha256 = false,
  ) {
    this.hash = sha256 ? createHash("sha256") : undefined;
  }

  get position(): number {
    return this.flushed + this.used;
  }

  private async writeAll(buf: Buffer, length: number): Promise<void> {
    let off = 0;
    while (off < length) {
      const { bytesWritten } = await this.fh.write(buf, off, length - off);
      off += bytesWritten;
    }
  }

  private async settle(): Promise<void> {
    if (this.pending) await this.pending;
    this.pending = null;
    if (this.failure) throw this.failure;
  }

  /** Starts writing the filled buffer and switches to the other one once its write is done. */
  async flush(): Promise<void> {
    await this.settle();
    const buf = this.buf;
    const length = this.used;
    this.hash?.update(buf.subarray(0, length));
    this.pending = this.writeAll(buf, length).catch((e) => { this.failure = e; });
    this.buf = this.spare;
    this.spare = buf;
    this.flushed += length;
    this.used = 0;
    this.onProgress?.(this.flushed, this.totalBytes);
  }

  /** Writes what is buffered and waits until every write has landed. */
  async finish(): Promise<void> {
    await this.flush();
    await this.settle();
  }

  async putBytes(data: Uint8Array): Promise<void> {
    let at = 0;
    while (at < data.length) {
      const n = Math.min(data.length - at, CHUNK_BYTES - this.used);
      this.buf.set(data.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === CHUNK_BYTES) await this.flush();
    }
  }

  async putZeros(count: number): Promise<void> {
    while (count > 0) {
      const n = Math.min(count, CHUNK_BYTES - this.used);
      this.buf.fill(0, this.used, this.used + n);
      this.used += n;
      count -= n;
      if (this.used === CHUNK_BYTES) await this.flush();
    }
  }

  /** Pads with zeros up to a logical block; placing past it means the layout is wrong. */
  async seekToSector(lba: number): Promise<void> {
    const target = lba * SECTOR;
    if (this.position > target) throw new Error(`layout overlap: at byte ${this.position}, sector ${lba} wanted`);
    await this.putZeros(target - this.position);
  }

  async padToSector(): Promise<void> {
    const rest = this.position % SECTOR;
    if (rest) await this.putZeros(SECTOR - rest);
  }

  /**
   * Reads up to `max` bytes from `src` at `position` straight into the buffer.
   * Returns the bytes read (0 at end of file).
   */
  async readFrom(src: FileHandle, position: number, max: number): Promise<number> {
    if (this.used === CHUNK_BYTES) await this.flush();
    const n = Math.min(max, CHUNK_BYTES - this.used);
    const { bytesRead } = await src.read(this.buf, this.used, n, position);
    this.used += bytesRead;
    if (this.used === CHUNK_BYTES) await this.flush();
    return bytesRead;
  }

  digest(): string | undefined {
    return this.hash?.digest("hex");
  }
}
