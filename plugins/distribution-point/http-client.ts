/**
 * HTTP(S) access to distribution points with node:http(s): keep-alive agents, TLS settings
 * (CA, client certificate), auth headers, per-socket idle timeout, bounded retries with
 * exponential backoff, and fallback across DPs in order (a DP found down is tried last).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { networkFailure, statusFailure, summarizeFailures, type Failure, type Subject } from "./failures.ts";

export interface RetryPolicy {
  /** Attempts per DP for transient failures (timeouts, dropped connections, 5xx). */
  tries: number;
  /** First backoff; doubles each retry. */
  backoffMs: number;
  /** A socket silent this long counts as dropped. */
  idleTimeoutMs: number;
}

const DEFAULT_RETRY: RetryPolicy = { tries: 4, backoffMs: 500, idleTimeoutMs: 30_000 };

export interface ClientOptions {
  /** Extra request headers (Authorization); values must be registered with the redactor. */
  headers?: Record<string, string>;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  retry?: Partial<RetryPolicy>;
  /** Told about each retry and fallback (goes to progress warnings and the build log). */
  onNotice?: (message: string) => void;
}

const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export class DpClient {
  readonly retry: RetryPolicy;
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;
  private readonly down = new Set<string>();

  constructor(
    readonly bases: string[],
    private readonly opts: ClientOptions = {},
  ) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    // Concurrency is core's (p-limit): the agents never queue requests themselves.
    this.http = new HttpAgent({ keepAlive: true, maxSockets: Infinity });
    this.https = new HttpsAgent({ keepAlive: true, maxSockets: Infinity, ...opts.tls });
  }

  /** DP bases in trial order: as listed, but those found down during this build last. */
  order(): string[] {
    return [...this.bases.filter((b) => !this.down.has(b)), ...this.bases.filter((b) => this.down.has(b))];
  }

  markDown(dp: string, why: string): void {
    if (!this.down.has(dp))
      this.notice(`distribution point ${dp} looks down (${why}); trying the next one first from now on`);
    this.down.add(dp);
  }

  notice(message: string): void {
    this.opts.onNotice?.(message);
  }

  /** One request; resolves with the response head whatever its status. */
  request(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<IncomingMessage> {
    const https = url.startsWith("https:");
    return new Promise((resolve, reject) => {
      let response: IncomingMessage | undefined;
      const req = (https ? httpsRequest : httpRequest)(
        url,
        { method, agent: https ? this.https : this.http, headers: { ...this.opts.headers, ...headers } },
        (res) => {
          response = res;
          resolve(res);
        },
      );
      req.setTimeout(this.retry.idleTimeoutMs, () => {
        // Destroy the body with the reason, so a stalled download reports a timeout, not "aborted".
        const e = Object.assign(new Error(`no data for ${this.retry.idleTimeoutMs} ms`), { code: "ETIMEDOUT" });
        response?.destroy(e);
        req.destroy(e);
      });
      req.on("error", reject);
      req.end();
    });
  }

  /** Delay before retry number `n` (1-based). */
  backoff(n: number): number {
    return Math.min(this.retry.backoffMs * 2 ** (n - 1), 30_000);
  }

  /**
   * Runs `attempt` against each DP in order, retrying transient failures with backoff;
   * the first success wins, else one error lists what was tried.
   */
  async tryEach<T>(subject: Subject, attempt: (dp: string) => Promise<T>): Promise<T> {
    const failures: Failure[] = [];
    for (const dp of this.order()) {
      for (let n = 1; ; n++) {
        try {
          return await attempt(dp);
        } catch (e) {
          const f = networkFailure(e, dp, dp, subject);
          if (f.transient && n < this.retry.tries) {
            this.notice(`${f.error.message}; retry ${n}/${this.retry.tries - 1} in ${this.backoff(n)} ms`);
            await sleep(this.backoff(n));
            continue;
          }
          failures.push({ dp, error: f.error, transient: f.transient });
          if (f.transient) this.markDown(dp, f.error.message);
          break;
        }
      }
    }
    throw summarizeFailures(failures, subject);
  }

  /** GETs a small text document (a package manifest) from the first DP that has it. */
  getText(urlOn: (dp: string) => string, subject: Subject): Promise<{ text: string; url: string; dp: string }> {
    return this.tryEach(subject, async (dp) => {
      const url = urlOn(dp);
      const res = await this.request(url, { accept: "application/json" });
      if (res.statusCode !== 200) {
        res.resume();
        throw statusFailure(res.statusCode ?? 0, url, dp, subject);
      }
      return { text: await readBody(res, MAX_MANIFEST_BYTES), url, dp };
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

async function readBody(res: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new Error(`response larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
