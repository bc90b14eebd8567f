/**
 * One content file as ONE continuous byte stream, whatever happens underneath: a dropped
 * or stalled connection resumes with `Range: bytes=N-` (and If-Range, so bytes of two
 * versions are never spliced), on the same DP after a backoff or on the next DP in order.
 * Core hashes what comes out; this module never decides whether the bytes are right.
 */
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { IncomingMessage } from "node:http";
import {
  networkFailure,
  statusFailure,
  summarizeFailures,
  AttemptError,
  type Failure,
  type Subject,
} from "./failures.ts";
import { dpError } from "./errors.ts";
import type { DpClient } from "./http-client.ts";
import "./codes.ts";

interface DownloadRequest {
  subject: Subject;
  /** The file's URL on a given DP base. */
  urlOn: (dp: string) => string;
  /** Size from the manifest: the download ends there (core checks size and hash). */
  size: number;
}

export function openDownload(client: DpClient, req: DownloadRequest): Readable {
  return Readable.from(downloadBytes(client, req), { objectMode: false, highWaterMark: 1024 * 1024 });
}

async function* downloadBytes(client: DpClient, req: DownloadRequest): AsyncGenerator<Buffer> {
  const failures: Failure[] = [];
  let received = 0;
  let etag: string | undefined;
  for (const dp of client.order()) {
    const url = req.urlOn(dp);
    for (let n = 1; ; ) {
      const before = received;
      let res: IncomingMessage | undefined;
      try {
        const headers: Record<string, string> =
          received > 0 ? { range: `bytes=${received}-`, ...(etag ? { "if-range": etag } : {}) } : {};
        res = await client.request(url, headers);
        const status = res.statusCode ?? 0;
        if (status === 416 && received > 0) return; // the DP's file is shorter than the manifest says: core reports BM2004
        if (status !== 200 && status !== 206) throw statusFailure(status, url, dp, req.subject);
        let skip = status === 200 ? received : checkContentRange(res, received, url, dp);
        etag =
          typeof res.headers.etag === "string" && !res.headers.etag.startsWith("W/") ? res.headers.etag : undefined;
        for await (const chunk of res as AsyncIterable<Buffer>) {
          // A server that ignored the range resends from byte 0: drop what we already gave.
          const piece = skip > 0 ? chunk.subarray(Math.min(skip, chunk.length)) : chunk;
          skip -= chunk.length - piece.length;
          if (piece.length === 0) continue;
          received += piece.length;
          yield piece;
          if (received > req.size) return; // more than the manifest: stop, core reports BM2004
        }
        if (received >= req.size) return;
        throw Object.assign(new Error(`connection closed after ${received} of ${req.size} bytes`), {
          code: "ECONNRESET",
        });
      } catch (e) {
        const f = networkFailure(e, url, dp, req.subject);
        // Progress since the last attempt means the DP works: resume at once, and the budget restarts.
        if (received > before) n = 1;
        else n++;
        if (f.transient && n <= client.retry.tries) {
          const wait = received > before ? 0 : client.backoff(n - 1);
          client.notice(`${f.error.message}; resuming at byte ${received}${wait ? ` in ${wait} ms` : ""}`);
          if (wait) await sleep(wait);
          continue;
        }
        failures.push({ dp, error: f.error, transient: f.transient });
        if (f.transient) client.markDown(dp, f.error.message);
        break;
      } finally {
        if (res && !res.complete) res.destroy();
      }
    }
  }
  throw summarizeFailures(failures, req.subject);
}

/** A 206 must start exactly where we asked; anything else would corrupt the stream. */
function checkContentRange(res: IncomingMessage, received: number, url: string, dp: string): number {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers["content-range"] ?? ""));
  if (!m || Number(m[1]) !== received) {
    throw new AttemptError(
      dpError(
        "BM2104",
        `GET ${url} with Range bytes=${received}- answered Content-Range "${res.headers["content-range"] ?? ""}"`,
        { where: dp },
      ),
      false,
    );
  }
  return 0;
}
