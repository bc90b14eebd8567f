/**
 * One pass over an OS image file: its stored bytes hashed (and copied, when asked), and
 * decompressed as a stream — gzip with node's zlib, zstd and xz through `zstd -dc` / `xz -dc`
 * — into the uncompressed size, sha256 and first MiB (where the partition table is). Nothing
 * is held in memory but that first MiB and one chunk.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import { createGunzip } from "node:zlib";
import { BootmediaError } from "../../base/errors.ts";
import { findOnHost, requirementOf } from "../../core/doctor.ts";
import { startProgram } from "../../core/program.ts";
import type { OsImageCompression } from "../../core/types.ts";
import "./codes.ts";

/** Magic bytes at the start of each compressed format (RFC 8878 §3.1.1, xz file format §2.1.1.1, RFC 1952 §2.3.1). */
const MAGIC = [
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["gzip", [0x1f, 0x8b]],
] as const satisfies ReadonlyArray<readonly [OsImageCompression, readonly number[]]>;

/** The programs that decompress the formats node cannot. */
const DECOMPRESSOR = { zstd: "zstd", xz: "xz" } as const;

/** The bytes read for the partition table: any sane table fits (GPT with 4096-byte sectors: 24 KiB). */
const HEAD_BYTES = 1024 * 1024;
const CHUNK = 1024 * 1024;

/** The compression its first bytes show; anything else is a raw image. */
export async function detectCompression(path: string): Promise<OsImageCompression> {
  const fh = await open(path, "r");
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(8), 0, 8, 0);
    const first = buffer.subarray(0, bytesRead);
    for (const [kind, magic] of MAGIC)
      if (first.length >= magic.length && magic.every((b, i) => first[i] === b)) return kind;
    return "none";
  } finally {
    await fh.close();
  }
}

interface ImageScan {
  storedBytes: number;
  storedSha256: string;
  /** Uncompressed bytes and their sha256. */
  size: number;
  sha256: string;
  /** The first HEAD_BYTES uncompressed bytes (fewer when the image is smaller). */
  head: Buffer;
}

interface ScanOptions {
  /** Names the image in errors. */
  where: string;
  /** Writes the stored bytes here too (a new file, fsynced). */
  copyTo?: string;
  /** Called once with the head, as soon as it is read: throwing stops the scan (a bad table fails fast). */
  onHead?: (head: Buffer) => void;
}

interface Decoder {
  input: Writable;
  output: Readable;
  /** Settles when the decoder is done; rejects with a coded error when the stream does not decompress. */
  done: Promise<void>;
  stop(): void;
}

const damaged = (where: string, why: string) => new BootmediaError("BM2307", `does not decompress: ${why}`, { where });

/** `stopped` says the scan stopped the decoder itself (its end is then no verdict). */
async function startDecoder(
  compression: Exclude<OsImageCompression, "none">,
  where: string,
  stopped: () => boolean,
): Promise<Decoder> {
  if (compression === "gzip") {
    const z = createGunzip();
    const done = new Promise<void>((res, rej) => {
      z.on("end", res);
      z.on("error", (e) => rej(damaged(where, `gzip: ${e.message}`)));
    });
    return { input: z, output: z, done, stop: () => z.destroy() };
  }
  const tool = DECOMPRESSOR[compression];
  if (findOnHost(tool) === undefined)
    throw new BootmediaError(
      "BM2313",
      `${where} is ${compression}-compressed and ${tool} is not installed (Debian package ${requirementOf(tool).debianPackage})`,
      { where: tool },
    );
  const { process: child } = await startProgram(tool, ["-dc"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    buffer: { stdout: false, stderr: true },
    encoding: "buffer",
    reject: false,
  });
  // A decoder that quits early breaks the pipe: the write's callback says so, not an unhandled event.
  child.stdin!.on("error", () => {});
  const done = child.then((r) => {
    if (r.isTerminated && stopped()) return;
    if (r.exitCode !== 0 || r.isTerminated) {
      const msg =
        Buffer.from(r.stderr as Uint8Array)
          .toString("utf8")
          .trim()
          .split("\n")
          .pop() ?? "";
      throw damaged(
        where,
        `${tool} -dc ${r.isTerminated ? "was stopped" : `exit ${r.exitCode}`}${msg ? `: ${msg}` : ""}`,
      );
    }
  });
  return { input: child.stdin!, output: child.stdout!, done, stop: () => child.kill() };
}

/** Writes one chunk and waits until the stream took it (a dead reader's EPIPE rejects). */
function put(w: Writable, chunk: Buffer): Promise<void> {
  return new Promise((res, rej) => w.write(chunk, (e) => (e ? rej(e) : res())));
}

/** Reads `path` once: hashes (and copies) its bytes, decompresses them, hands over the head. */
export async function scanImage(path: string, compression: OsImageCompression, opts: ScanOptions): Promise<ImageScan> {
  const before = await stat(path);
  const storedHash = createHash("sha256");
  const rawHash = createHash("sha256");
  let storedBytes = 0;
  let size = 0;
  const head = Buffer.alloc(HEAD_BYTES);
  let headBytes = 0;
  let headSeen = false;
  const seeHead = () => {
    if (headSeen) return;
    headSeen = true;
    opts.onHead?.(head.subarray(0, headBytes));
  };
  const onRaw = (chunk: Buffer) => {
    rawHash.update(chunk);
    size += chunk.length;
    if (headBytes < HEAD_BYTES) {
      headBytes += chunk.copy(head, headBytes, 0, Math.min(chunk.length, HEAD_BYTES - headBytes));
      if (headBytes === HEAD_BYTES) seeHead();
    }
  };

  let stopped = false;
  const decoder = compression === "none" ? undefined : await startDecoder(compression, opts.where, () => stopped);
  const out = opts.copyTo
    ? await open(opts.copyTo, "wx").catch((e: unknown) => {
        stopped = true;
        decoder?.stop();
        throw e;
      })
    : undefined;
  const src = createReadStream(path, { highWaterMark: CHUNK });
  const errors: unknown[] = [];
  /** The first failure stops the others: the source is closed and the decoder ended. */
  const guard = (p: Promise<unknown> | undefined) =>
    p?.catch((e: unknown) => {
      errors.push(e);
      if (stopped) return;
      stopped = true;
      src.destroy();
      decoder?.stop();
    });
  const feed = (async () => {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      storedHash.update(chunk);
      storedBytes += chunk.length;
      const writes: Promise<unknown>[] = [];
      if (out) writes.push(writeAll(out, chunk));
      if (decoder) writes.push(put(decoder.input, chunk));
      else onRaw(chunk);
      await Promise.all(writes);
    }
    decoder?.input.end();
  })();
  const drain = decoder
    ? (async () => {
        for await (const chunk of decoder.output as AsyncIterable<Buffer>) onRaw(chunk);
      })()
    : undefined;
  await Promise.all([guard(feed), guard(drain), guard(decoder?.done)]);
  try {
    // A coded verdict (the table, the decoder's own message) names the damage better than
    // the broken pipe or closed stream it caused.
    const coded = errors.find((e) => e instanceof BootmediaError);
    if (coded) throw coded;
    const pipe = errors.find((e) => (e as NodeJS.ErrnoException).code === "EPIPE");
    if (pipe) throw damaged(opts.where, "the decompressor stopped reading before the end of the file");
    if (errors.length > 0) throw errors[0];
    seeHead();
    if (out) await out.sync();
  } finally {
    await out?.close();
  }
  const after = await stat(path);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || storedBytes !== before.size)
    throw new BootmediaError("BM2311", "changed while it was read", { where: opts.where });
  return {
    storedBytes,
    storedSha256: storedHash.digest("hex"),
    size,
    sha256: rawHash.digest("hex"),
    head: Buffer.from(head.subarray(0, headBytes)),
  };
}

async function writeAll(fh: Awaited<ReturnType<typeof open>>, chunk: Buffer): Promise<void> {
  for (let done = 0; done < chunk.length; ) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
}
