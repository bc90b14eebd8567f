/**
 * The management-point simulator: node:http (self-signed media) or node:https with mutual
 * TLS (PKI media), bound to 127.0.0.1 only. Guests reach it through QEMU guestfwd
 * (network.ts); every request is logged with its outcome for the testbed report.
 */
import { X509Certificate } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { BootmediaError } from "../../base/errors.ts";
import { checkClientCertificate, checkSignedRequest } from "./auth.ts";
import { decidePolicyAnswer } from "./decide.ts";
import {
  MAX_CLOCK_SKEW_SEC,
  MP_HEADERS,
  MP_PATHS,
  MP_RESULTS,
  PROTOCOL_VERSION,
  PolicyRequestSchema,
  renderAnswer,
  type MpAnswer,
  type PolicyRequest,
} from "./protocol.ts";
import { parseSite, type Site, type SiteInput } from "./site.ts";
import "./codes.ts";

/** The only address the simulator binds: guests get in through guestfwd, nothing else does. */
export const MP_BIND_HOST = "127.0.0.1";
const MAX_BODY_BYTES = 16 * 1024;

export interface MpTls {
  /** The MP's own certificate and key (PEM). */
  cert: string;
  key: string;
  /** CA certificate(s) (PEM) that issue the media's client certificates. */
  ca: string;
}

/** @public reachable from the package's API types. */
export interface StartMpOptions {
  site: Site | SiteInput;
  /** This MP's name in the site database. */
  name: string;
  tls?: MpTls;
  /** Must be 127.0.0.1 (BM5301); present so a caller's wrong idea fails loudly. */
  host?: string;
  port?: number;
  /** The MP's clock in seconds (certificate dates, replay window); defaults to the host clock. */
  now?: () => number;
}

export interface MpRequestLogEntry {
  method: string;
  path: string;
  /** The TCP peer (always loopback) and what the body said about the client. */
  client: { address: string; mac?: string; uuid?: string; ip?: string };
  status: number;
  result: MpAnswer["result"];
  why?: string;
  /** Where a redirect sent the client. */
  to?: string;
}

export interface RunningMp {
  name: string;
  url: string;
  port: number;
  requests: MpRequestLogEntry[];
  /** Other MPs' URLs as clients must use them, for redirects; fill it once every MP runs. */
  peers: Map<string, string>;
  close(): Promise<void>;
}

export async function startManagementPoint(opts: StartMpOptions): Promise<RunningMp> {
  const host = opts.host ?? MP_BIND_HOST;
  if (host !== MP_BIND_HOST)
    throw new BootmediaError("BM5301", `management point ${opts.name}: refusing to listen on ${host}`);
  const site = parseSite(opts.site);
  if (!site.managementPoints.includes(opts.name))
    throw new BootmediaError("BM5302", `site database has no management point named ${opts.name}`);
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const cas = opts.tls ? readCaCertificates(opts.tls.ca) : [];
  const peers = new Map<string, string>();
  const requests: MpRequestLogEntry[] = [];
  const seenNonces = new Map<string, number>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const entry: MpRequestLogEntry = {
      method: req.method ?? "?",
      path,
      client: { address: req.socket.remoteAddress ?? "?" },
      status: 0,
      result: "not-found",
    };
    const send = (answer: MpAnswer) => {
      entry.result = answer.result;
      entry.status = MP_RESULTS[answer.result];
      if ("why" in answer) entry.why = answer.why;
      if (answer.result === "redirect") entry.to = answer.mp;
      requests.push(entry);
      const text = renderAnswer(answer);
      // A Content-Length (never chunked) keeps the JSON line the last line of the raw response.
      res.writeHead(entry.status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        [MP_HEADERS.result]: answer.result,
        connection: "close",
      });
      res.end(text);
    };
    if (req.method === "GET" && path === MP_PATHS.ping)
      return send({ result: "pong", mp: opts.name, v: PROTOCOL_VERSION });
    if (req.method !== "POST" || path !== MP_PATHS.policy) return send({ result: "not-found" });
    const body = await readBody(req);
    if (!body) return send({ result: "bad-request", why: "too-large" });
    let parsed: PolicyRequest;
    try {
      const r = PolicyRequestSchema.safeParse(JSON.parse(body.toString("utf8")));
      if (!r.success)
        return send({
          result: "bad-request",
          why: "malformed",
          detail: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
        });
      parsed = r.data;
    } catch {
      return send({ result: "bad-request", why: "malformed", detail: "body is not JSON" });
    }
    entry.client = { ...entry.client, mac: parsed.mac, uuid: parsed.uuid, ip: parsed.ip };
    const clock = now();
    const rejected = opts.tls
      ? checkClientCertificate((req.socket as TLSSocket).getPeerCertificate?.()?.raw, cas, clock)
      : checkSignedRequest(
          site,
          {
            body,
            signature: header(req, MP_HEADERS.signature),
            certificateSha256: header(req, MP_HEADERS.certificate),
          },
          clock,
        );
    if (rejected) return send({ result: "certificate-rejected", why: rejected });
    if (Math.abs(clock - parsed.timestamp) > MAX_CLOCK_SKEW_SEC)
      return send({ result: "bad-request", why: "stale-timestamp" });
    for (const [n, t] of seenNonces) if (clock - t > 2 * MAX_CLOCK_SKEW_SEC) seenNonces.delete(n);
    if (seenNonces.has(parsed.nonce)) return send({ result: "bad-request", why: "replayed-nonce" });
    seenNonces.set(parsed.nonce, clock);
    send(decidePolicyAnswer(site, { name: opts.name, peerUrl: (n) => peers.get(n) }, parsed));
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: unknown) => {
      res.writeHead(500, { connection: "close" }).end(`${String(e)}\n`);
    });
  };
  let server: Server;
  try {
    server = opts.tls
      ? createHttpsServer(
          { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: false },
          listener,
        )
      : createHttpServer(listener);
  } catch (e) {
    throw new BootmediaError("BM5304", `management point ${opts.name}: ${(e as Error).message}`, { cause: e });
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, MP_BIND_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    name: opts.name,
    url: `${opts.tls ? "https" : "http"}://${MP_BIND_HOST}:${port}`,
    port,
    requests,
    peers,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body, or null past MAX_BODY_BYTES (a policy request is a few hundred bytes). */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function readCaCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new BootmediaError("BM5304", "the MP's ca holds no PEM certificate");
  return blocks.map((b) => new X509Certificate(b));
}
