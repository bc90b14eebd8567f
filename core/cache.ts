/**
 * The content-addressed cache: one file per sha256, shared by every build. A file enters
 * the cache only after its bytes hashed to the expected value (temp file, verify, rename),
 * so the cache never holds a partial or unverified file.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat, utimes } from "node:fs/promises";
import { availableParallelism, homedir } from "node:os";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { BootmediaError } from "../base/errors.ts";
import "./codes.ts";

export function defaultCacheDir(): string {
  if (process.env.BOOTMEDIA_CACHE) return process.env.BOOTMEDIA_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "bootmedia");
}

/**
 * Incoming bytes are gathered into blocks this large: one write and one hand-over to a
 * hashing thread per block instead of one per 64 KiB network chunk.
 */
const BLOCK_BYTES = 1 << 20;
/** Blocks one download may have in flight (being written or hashed): bounds memory at 4 MiB a download. */
const BLOCKS_PER_PUT = 4;
/**
 * Blocks outlive the download that used them: a fresh 1 MiB ArrayBuffer per block meant
 * zero-filling and page-faulting every byte once more and, as external memory, frequent full
 * garbage collections (measured: GC went from 0.2 to 1.2 s for 1 GiB).
 */
const spareBlocks: ArrayBuffer[] = [];
const MAX_SPARE_BLOCKS = 16;

function takeBlock(): ArrayBuffer {
  return spareBlocks.pop() ?? new ArrayBuffer(BLOCK_BYTES);
}

function giveBackBlocks(blocks: ArrayBuffer[]): void {
  for (const b of blocks)
    if (spareBlocks.length < MAX_SPARE_BLOCKS && b.byteLength === BLOCK_BYTES /* 0 once detached */)
      spareBlocks.push(b);
}

/**
 * SHA-256 runs on worker threads: on the main thread it was the bottleneck of a fetch
 * (about 1 GB/s of hashing competing with HTTP parsing and writes on one core, while curl
 * spreads the same work over processes). A block is transferred (not copied) to the worker
 * and transferred back once hashed, so it is reused. Plain JS source: workers must not
 * depend on the TypeScript loader.
 */
const HASH_WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hashes = new Map();
parentPort.on("message", (m) => {
  let h = hashes.get(m.id);
  if (!h) hashes.set(m.id, (h = createHash("sha256")));
  if (m.buf) {
    h.update(new Uint8Array(m.buf, 0, m.length));
    parentPort.postMessage({ id: m.id, buf: m.buf }, [m.buf]);
  } else {
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, hex: h.digest("hex") });
  }
});`;

interface HashStream {
  /** Called with each block the worker is done with. */
  onBlock: (buf: ArrayBuffer) => void;
  onDigest: (hex: string) => void;
  onError: (e: Error) => void;
}

/** A small pool of hashing threads; each stream sticks to one thread so its blocks hash in order. */
class HashPool {
  private readonly workers: { worker: Worker; streams: Set<number> }[] = [];
  private readonly streams = new Map<number, HashStream>();
  private nextId = 1;

  private spawn(): { worker: Worker; streams: Set<number> } {
    const slot = { worker: new Worker(HASH_WORKER_SOURCE, { eval: true }), streams: new Set<number>() };
    slot.worker.on("message", (m: { id: number; buf?: ArrayBuffer; hex?: string }) => {
      const s = this.streams.get(m.id);
      if (m.buf) s?.onBlock(m.buf);
      else if (m.hex !== undefined) {
        this.release(slot, m.id);
        s?.onDigest(m.hex);
      }
    });
    slot.worker.on("error", (e) => {
      this.workers.splice(this.workers.indexOf(slot), 1);
      for (const id of slot.streams) this.streams.get(id)?.onError(e);
      for (const id of slot.streams) this.streams.delete(id);
    });
    slot.worker.unref(); // an idle pool never keeps the process alive
    this.workers.push(slot);
    return slot;
  }

  private release(slot: { worker: Worker; streams: Set<number> }, id: number): void {
    this.streams.delete(id);
    slot.streams.delete(id);
    if (slot.streams.size === 0) slot.worker.unref();
  }

  /** Starts a hash; returns functions to feed blocks (transferred) and to finish. */
  open(stream: HashStream): {
    update: (buf: ArrayBuffer, length: number) => void;
    digest: () => void;
    abandon: () => void;
  } {
    const size = Math.max(1, Math.min(4, availableParallelism() - 1));
    const slot =
      this.workers.length < size
        ? this.spawn()
        : this.workers.reduce((a, b) => (b.streams.size < a.streams.size ? b : a));
    const id = this.nextId++;
    this.streams.set(id, stream);
    slot.streams.add(id);
    slot.worker.ref(); // work in flight: keep the process alive until it answers
    return {
      update: (buf, length) => slot.worker.postMessage({ id, buf, length }, [buf]),
      digest: () => slot.worker.postMessage({ id }),
      // The worker still answers the blocks and digest already sent; those answers are dropped.
      abandon: () => {
        this.streams.delete(id);
        slot.worker.postMessage({ id });
      },
    };
  }
}

const hashPool = new HashPool();

/** Writes blocks to a file in order while a worker hashes them; `finish` gives size and sha256. */
class VerifiedSink {
  private block: Uint8Array<ArrayBuffer> = new Uint8Array(takeBlock());
  private used = 0;
  private size = 0;
  private position = 0;
  private readonly free: ArrayBuffer[] = [];
  private blocks = 1;
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  private digestResult: ((hex: string) => void) | null = null;
  private readonly hash: ReturnType<HashPool["open"]>;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly fh: import("node:fs/promises").FileHandle) {
    this.hash = hashPool.open({
      onBlock: (buf) => {
        this.free.push(buf);
        this.wake();
      },
      onDigest: (hex) => this.digestResult?.(hex),
      onError: (e) => {
        this.failure = e;
        this.wake();
      },
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private async nextBlock(): Promise<Uint8Array<ArrayBuffer>> {
    while (this.free.length === 0 && this.blocks >= BLOCKS_PER_PUT) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    if (this.failure) throw this.failure;
    const buf = this.free.pop();
    if (buf) return new Uint8Array(buf);
    this.blocks++;
    return new Uint8Array(takeBlock());
  }

  /** Hands the full (or last) block to the file, then to the hashing thread. */
  private async ship(): Promise<void> {
    const block = this.block,
      length = this.used,
      at = this.position;
    this.position += length;
    this.used = 0;
    await this.writing; // one write in flight keeps them in order and surfaces its error here
    this.writing = writeFully(this.fh, block, length, at).then(() => this.hash.update(block.buffer, length));
    // Its failure (EFBIG past ulimit -f, ENOSPC) surfaces at the next await of it; until then it
    // must not count as unhandled, which would end the process while nextBlock() waits.
    this.writing.catch(() => undefined);
    this.block = await this.nextBlock();
  }

  async add(chunk: Uint8Array): Promise<void> {
    this.size += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(chunk.length - at, BLOCK_BYTES - this.used);
      this.block.set(chunk.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === BLOCK_BYTES) await this.ship();
    }
  }

  async finish(): Promise<{ size: number; sha256: string }> {
    if (this.used > 0) await this.ship();
    await this.writing;
    const sha256 = await new Promise<string>((resolve, reject) => {
      this.digestResult = resolve;
      if (this.failure) reject(this.failure);
      this.hash.digest();
    });
    // Every block has come back from the worker (it answers in order, digest last).
    giveBackBlocks([...this.free, this.block.buffer]);
    this.free.length = 0;
    return { size: this.size, sha256 };
  }

  /** Waits for the write in flight (it may still use the file and hand a block over), then drops the hash. */
  async abandon(): Promise<void> {
    await this.writing.catch(() => undefined);
    this.hash.abandon();
  }
}

async function writeFully(
  fh: import("node:fs/promises").FileHandle,
  block: Uint8Array,
  length: number,
  at: number,
): Promise<void> {
  let done = 0;
  while (done < length) done += (await fh.write(block, done, length - done, at + done)).bytesWritten;
}

export class ContentCache {
  constructor(readonly dir: string) {}

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.dir, "sha256", sha256.slice(0, 2), sha256);
  }

  /**
   * Whether the entry is there with its size. A hit marks the entry as used now (its mtime:
   * atime is not kept on relatime/noatime mounts), which is what `cache prune` goes by.
   */
  async has(sha256: string, size: number): Promise<boolean> {
    const path = this.pathOf(sha256);
    try {
      if ((await stat(path)).size !== size) return false;
    } catch {
      return false;
    }
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined); // a read-only cache still serves hits
    return true;
  }

  /**
   * Like `has`, but a hit is hashed again: bytes on the cache's disk may have rotted or been
   * edited since they were verified, and they are what goes on the media. A bad entry is
   * removed ("corrupt"): the caller fetches it again.
   */
  async check(sha256: string, size: number): Promise<"hit" | "miss" | "corrupt"> {
    if (!(await this.has(sha256, size))) return "miss";
    const path = this.pathOf(sha256);
    const actual = await hashFile(path).catch(() => undefined);
    if (actual === sha256) return "hit";
    await rm(path, { force: true });
    return "corrupt";
  }

  /** BM2010 when the cache folder is a file, or cannot be created. */
  async assertUsable(): Promise<void> {
    try {
      await mkdir(join(this.dir, "sha256"), { recursive: true });
    } catch (e) {
      throw new BootmediaError(
        "BM2010",
        `cannot use ${this.dir} as the content cache (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        { where: this.dir, cause: e },
      );
    }
  }

  /**
   * Streams `source` into the cache, hashing as bytes arrive. On a mismatch the bytes are
   * discarded and BM2004 names `label` (the file as the user knows it).
   */
  async put(
    source: Readable,
    expect: { sha256: string; size: number; label: string },
    onBytes?: (n: number) => void,
  ): Promise<string> {
    const final = this.pathOf(expect.sha256);
    await mkdir(dirname(final), { recursive: true });
    const tmp = `${final}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const fh = await open(tmp, "w");
    const sink = new VerifiedSink(fh);
    let finished = false;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        await sink.add(chunk);
        onBytes?.(chunk.length);
      }
      const got = await sink.finish();
      finished = true;
      await fh.close();
      if (got.sha256 !== expect.sha256 || got.size !== expect.size) {
        throw new BootmediaError(
          "BM2004",
          `hash mismatch for ${expect.label}: expected ${expect.size} bytes sha256 ${expect.sha256}, got ${got.size} bytes sha256 ${got.sha256}`,
          { where: expect.label },
        );
      }
      await rename(tmp, final);
      return final;
    } finally {
      if (!finished) {
        source.destroy();
        await sink.abandon();
      }
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
    }
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
