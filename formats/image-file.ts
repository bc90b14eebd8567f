/**
 * An image opened for reading as untrusted input: every read is bounded by the image's size
 * (a range past the end is damage, never silent zeros), and a reader's own slips on
 * malformed bytes (a record past its buffer) become the format's coded "damaged" error.
 */
import { readFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { RecordBoundsError } from "./record.ts";

export interface ImageErrors {
  /** The file cannot be opened. */
  cannotOpen(cause: Error): Error;
  /** The image's bytes contradict themselves or it is truncated. */
  damaged(message: string): Error;
}

/** Size of a block device from sysfs (stat reports 0 for devices); unknown sizes are not bounded. */
function blockDeviceBytes(rdev: number): number {
  const major = (rdev >> 8) & 0xfff,
    minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  try {
    return (
      Number(readFileSync(`/sys/dev/block/${major}:${minor}/size`, "utf8").trim()) * 512 || Number.MAX_SAFE_INTEGER
    );
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}

export class ImageFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    /** Bytes of the image: no read passes this. */
    readonly size: number,
    private readonly errors: ImageErrors,
  ) {}

  static async open(path: string, errors: ImageErrors): Promise<ImageFile> {
    const fh = await open(path, "r").catch((cause: Error) => {
      throw errors.cannotOpen(cause);
    });
    try {
      const st = await fh.stat();
      return new ImageFile(path, fh, st.isBlockDevice() ? blockDeviceBytes(st.rdev) : st.size, errors);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  damaged(message: string): Error {
    return this.errors.damaged(message);
  }

  /** True when [pos, pos + length) lies inside the image. */
  holds(pos: number, length: number): boolean {
    return (
      Number.isSafeInteger(pos) && Number.isSafeInteger(length) && pos >= 0 && length >= 0 && pos + length <= this.size
    );
  }

  /** Exactly `length` bytes at `pos`; `what` names them in the error when they lie past the end. */
  async read(pos: number, length: number, what: string): Promise<Buffer> {
    if (!this.holds(pos, length))
      throw this.damaged(`${what} (${length} bytes at byte ${pos}) lies past the end of the ${this.size}-byte image`);
    const buf = Buffer.alloc(length);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, pos + done);
      if (bytesRead === 0) throw this.damaged(`${what}: the image ends at byte ${pos + done}`);
      done += bytesRead;
    }
    return buf;
  }

  close(): Promise<void> {
    return this.fh.close();
  }

  /** Runs `fn` on the opened image, closing it after and turning a record read past its buffer into damage. */
  static async with<T>(path: string, errors: ImageErrors, fn: (img: ImageFile) => Promise<T>): Promise<T> {
    const img = await ImageFile.open(path, errors);
    try {
      return await fn(img);
    } catch (e) {
      throw isMalformedRead(e) ? errors.damaged(`a record lies outside its area (${(e as Error).message})`) : e;
    } finally {
      await img.close();
    }
  }
}

/** A Buffer read past its end or a record past its buffer: the bytes lied about a length. */
function isMalformedRead(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return e instanceof RecordBoundsError || code === "ERR_OUT_OF_RANGE" || code === "ERR_BUFFER_OUT_OF_BOUNDS";
}
