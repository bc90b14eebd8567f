/**
 * A reverse proxy for tests (the testbed's deploy cases): it stands in front of a distribution
 * point URL, passes requests through unchanged, counts the body bytes it sends per path, and can
 * drop a connection once after N body bytes of a path — the "DP drops the connection half-way"
 * case, without touching the DP. Later requests of that path (the client's Range resume) pass
 * unchanged. Loopback by default; HTTP on the client side, HTTP or HTTPS to the DP.
 */
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";

/** One request the proxy passed on. */
interface ProxiedRequest {
  method: string;
  /** The URL path the client asked for (no query), as `bytesSent` names paths. */
  path: string;
  /** The client's Range header, if any. */
  range?: string;
  /** The DP's status, or 502 when the DP could not be reached. */
  status: number;
  /** Body bytes the proxy wrote to the client. */
  bytes: number;
  /** The proxy cut this response on purpose (dropOnce). */
  dropped: boolean;
}

interface FaultProxyOptions {
  /** The DP's base URL (`http://127.0.0.1:8080/`); a request for /x goes to <target>/x. */
  target: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** A CA (PEM) for an https target; without it an https DP's certificate is not checked (tests). */
  ca?: string;
}

export interface FaultProxy {
  /** The proxy's base URL, ending in "/" (like LibraryServer's). */
  url: string;
  port: number;
  /** The next response for `path` is cut after `afterBytes` body bytes (the connection dropped); once. */
  dropOnce(path: string, afterBytes: number): void;
  /** Body bytes sent to clients for `path`, every request summed (dropped ones up to the cut). */
  bytesSent(path: string): number;
  /** Every request passed on, in the order they finished. */
  readonly requests: readonly ProxiedRequest[];
  close(): Promise<void>;
}

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
]);

function forwardable(headers: IncomingMessage["headers"]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/**
 * Writes the DP's body to the client in order, with backpressure, counting what it writes. When
 * a drop is armed and the body reaches it, the bytes up to the mark are flushed to the client's
 * socket and the connection is destroyed (the client sees a short body, as from a dying DP).
 */
function relayBody(
  upstream: IncomingMessage,
  res: ServerResponse,
  record: ProxiedRequest,
  count: (bytes: number) => void,
  armed: () => number | undefined,
  disarm: () => void,
): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      upstream.off("data", onData);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      const cut = armed();
      if (cut !== undefined && record.bytes + chunk.length >= cut) {
        disarm();
        const piece = chunk.subarray(0, Math.max(0, cut - record.bytes));
        record.bytes += piece.length;
        count(piece.length);
        record.dropped = true;
        upstream.destroy();
        res.write(piece, () => {
          res.socket?.destroy();
          finish();
        });
        upstream.off("data", onData);
        return;
      }
      record.bytes += chunk.length;
      count(chunk.length);
      if (!res.write(chunk)) {
        upstream.pause();
        res.once("drain", () => upstream.resume());
      }
    };
    upstream.on("data", onData);
    upstream.on("end", () => res.end(finish));
    upstream.on("error", () => {
      res.socket?.destroy();
      finish();
    });
    res.on("close", () => {
      // The client went away first.
      if (!res.writableFinished && !record.dropped) upstream.destroy();
      finish();
    });
  });
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(opts.target);
  const base = target.pathname.replace(/\/$/, "");
  const drops = new Map<string, number>();
  const sent = new Map<string, number>();
  const requests: ProxiedRequest[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const record: ProxiedRequest = {
      method: req.method ?? "?",
      path,
      ...(req.headers.range ? { range: req.headers.range } : {}),
      status: 0,
      bytes: 0,
      dropped: false,
    };
    const upstream = await new Promise<IncomingMessage | Error>((resolve) => {
      const send = target.protocol === "https:" ? httpsRequest : httpRequest;
      const up = send(
        new URL(base + (req.url ?? "/"), target),
        {
          method: req.method,
          headers: { ...forwardable(req.headers), host: target.host },
          ...(target.protocol === "https:" ? { ca: opts.ca, rejectUnauthorized: opts.ca !== undefined } : {}),
        },
        resolve,
      );
      up.on("error", resolve);
      req.pipe(up);
    });
    if (upstream instanceof Error) {
      record.status = 502;
      res.writeHead(502, { "content-length": 0 }).end();
      requests.push(record);
      return;
    }
    record.status = upstream.statusCode ?? 0;
    res.writeHead(record.status, forwardable(upstream.headers));
    await relayBody(
      upstream,
      res,
      record,
      (n) => sent.set(path, (sent.get(path) ?? 0) + n),
      // Armed for this path? GET only (a HEAD has no body to cut); the first response to reach the mark takes it.
      () => (req.method === "GET" ? drops.get(path) : undefined),
      () => drops.delete(path),
    );
    requests.push(record);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.socket?.destroy());
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    port,
    dropOnce: (path, afterBytes) => drops.set(path, afterBytes),
    bytesSent: (path) => sent.get(path) ?? 0,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
