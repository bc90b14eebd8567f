/**
 * The management point: node:http (self-signed media sign their bodies) or node:https with
 * mutual TLS (PKI media). One implementation for `bootmedia mp serve` and the testbed's MPs
 * (which ask for loopback only: guests reach them through QEMU guestfwd, testbed/mp/network.ts).
 * Every request is logged with its outcome; with a state dir, what the MP gives and accepts is
 * on disk before it answers (state.ts).
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { BootmediaError } from "../../base/errors.ts";
import { handleLog, handlePolicy, handleStatus, type HandlerContext } from "./handlers.ts";
import {
  MAX_BODY_BYTES,
  MP_HEADERS,
  MP_PATHS,
  MP_RESULTS,
  PROTOCOL_VERSION,
  renderAnswer,
  type MpAnswer,
} from "./protocol.ts";
import { loadSiteFile, resolveSite, type LoadedSite } from "./site-content.ts";
import type { Site, SiteInput } from "./site.ts";
import { MpState } from "./state.ts";
import "./codes.ts";

/** The address the testbed's MPs bind (and the default): guests get in through guestfwd, nothing else does. */
export const MP_BIND_HOST = "127.0.0.1";

export interface MpTls {
  /** The MP's own certificate and key (PEM). */
  cert: string;
  key: string;
  /** CA certificate(s) (PEM) that issue the media's client certificates. */
  ca: string;
}

/** @public reachable from the package's API types. */
export interface StartMpOptions {
  /** The site database (its `library` relative to `siteDir`, default the working folder) … */
  site?: Site | SiteInput;
  siteDir?: string;
  /** … or a site file (YAML or JSON), which `reload()` reads again. */
  siteFile?: string;
  /** This MP's name in the site database. */
  name: string;
  tls?: MpTls;
  /** Default 127.0.0.1. */
  host?: string;
  port?: number;
  /** Refuse any host but 127.0.0.1 (BM5301): the testbed's MPs must never be reachable from elsewhere. */
  loopbackOnly?: boolean;
  /** Journal and logs survive restarts here; without it the state lives in memory. */
  stateDir?: string;
  /** The MP's clock in seconds (certificate dates, replay window); defaults to the host clock. */
  now?: () => number;
  /** Called once per answered request (the CLI prints it). */
  onRequest?: (entry: MpRequestLogEntry) => void;
  /** Keep every request in `requests` (default true; a long-running MP turns it off). */
  keepRequests?: boolean;
}

export interface MpRequestLogEntry {
  method: string;
  path: string;
  /** The TCP peer and what the body said about the client. */
  client: { address: string; mac?: string; uuid?: string; ip?: string };
  status: number;
  result: MpAnswer["result"];
  why?: string;
  /** Where a redirect sent the client. */
  to?: string;
  deploymentId?: string;
  /** The deployment run a status event or log belongs to. */
  run?: string;
  seq?: number;
  /** Milliseconds from the request's arrival to the answer. */
  ms?: number;
}

export interface RunningMp {
  name: string;
  url: string;
  port: number;
  requests: MpRequestLogEntry[];
  /** Other MPs' URLs as clients must use them, for redirects; fill it once every MP runs. */
  peers: Map<string, string>;
  /** Policies given, events and logs accepted. */
  state: MpState;
  /** The site in use. */
  site(): LoadedSite;
  /** Reads the site file again; a bad one throws (coded) and the old site keeps serving. */
  reload(): Promise<LoadedSite>;
  close(): Promise<void>;
}

const HANDLERS = {
  [MP_PATHS.policy]: { handle: handlePolicy, maxBytes: MAX_BODY_BYTES.policy },
  [MP_PATHS.status]: { handle: handleStatus, maxBytes: MAX_BODY_BYTES.status },
  [MP_PATHS.log]: { handle: handleLog, maxBytes: MAX_BODY_BYTES.log },
} as const;

export async function startManagementPoint(opts: StartMpOptions): Promise<RunningMp> {
  const host = opts.host ?? MP_BIND_HOST;
  if (opts.loopbackOnly && host !== MP_BIND_HOST)
    throw new BootmediaError("BM5301", `management point ${opts.name}: refusing to listen on ${host}`);
  const loadSite = async () => {
    const loaded = opts.siteFile
      ? await loadSiteFile(opts.siteFile)
      : await resolveSite(opts.site, { baseDir: opts.siteDir });
    if (!loaded.site.managementPoints.includes(opts.name))
      throw new BootmediaError("BM5302", `site database has no management point named ${opts.name}`, {
        where: loaded.file,
      });
    return loaded;
  };
  let site = await loadSite();
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const cas = opts.tls ? checkTls(opts.tls, opts.name) : undefined;
  const peers = new Map<string, string>();
  const requests: MpRequestLogEntry[] = [];
  const state = opts.stateDir ? await MpState.open(opts.stateDir) : MpState.inMemory();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
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
      entry.ms = Math.round((performance.now() - started) * 10) / 10;
      if (opts.keepRequests !== false) requests.push(entry);
      opts.onRequest?.(entry);
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
    const route = req.method === "POST" ? HANDLERS[path as keyof typeof HANDLERS] : undefined;
    if (!route) return send({ result: "not-found" });
    const body = await readBody(req, route.maxBytes);
    if (!body) return send({ result: "bad-request", why: "too-large" });
    const ctx: HandlerContext = {
      name: opts.name,
      site,
      state,
      cas,
      peers,
      clock: now(),
      req,
      body,
      note: ({ deploymentId, run, seq, ...client }) => {
        for (const [k, v] of Object.entries(client)) if (v !== undefined) Object.assign(entry.client, { [k]: v });
        if (deploymentId !== undefined) entry.deploymentId = deploymentId;
        if (run !== undefined) entry.run = run;
        if (seq !== undefined) entry.seq = seq;
      },
    };
    send(await route.handle(ctx));
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { connection: "close" });
      res.end(`${String(e)}\n`);
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
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
  } catch (e) {
    await state.close();
    throw listenError(e, opts, host);
  }
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    name: opts.name,
    url: `${opts.tls ? "https" : "http"}://${shownHost}:${port}`,
    port,
    requests,
    peers,
    state,
    site: () => site,
    reload: async () => {
      site = await loadSite();
      return site;
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await state.close();
    },
  };
}

function listenError(e: unknown, opts: StartMpOptions, host: string): BootmediaError {
  if (e instanceof BootmediaError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const where = `${host}:${opts.port ?? 0}`;
  if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL")
    return new BootmediaError("BM5306", `management point ${opts.name}: cannot listen on ${where}: ${code}`, {
      cause: e,
      ...(code === "EADDRINUSE"
        ? {}
        : {
            hint:
              code === "EACCES"
                ? "Ports below 1024 need root (or CAP_NET_BIND_SERVICE): give --listen a port of 1024 or more."
                : "That address is not one of this machine's: give --listen an address of this machine, or 0.0.0.0 for all.",
          }),
    });
  return new BootmediaError("BM5304", `management point ${opts.name}: ${(e as Error).message}`, { cause: e });
}

/** The MP's certificate must parse and go with its key; the CA file must hold certificates. */
function checkTls(tls: MpTls, name: string): X509Certificate[] {
  let matches: boolean;
  try {
    matches = new X509Certificate(tls.cert).checkPrivateKey(createPrivateKey(tls.key));
  } catch (e) {
    throw new BootmediaError("BM5304", `management point ${name}: TLS certificate or key: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (!matches)
    throw new BootmediaError("BM5307", `management point ${name}: the TLS key is not the key of the TLS certificate`);
  const blocks = tls.ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new BootmediaError("BM5304", "the MP's ca holds no PEM certificate");
  return blocks.map((b) => new X509Certificate(b));
}

/**
 * The body, or null past `maxBytes` (a declared Content-Length past it is refused before a
 * byte is read). The rest of an oversized body is never read: the answer closes the connection.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off("data", onData).off("end", onEnd).pause();
        return resolve(null);
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    // A client gone before its body ended: nothing was stored, and there is no one to answer.
    const onClose = () => reject(new Error("the client closed the connection before its body ended"));
    req
      .on("data", onData)
      .on("end", onEnd)
      .on("error", reject)
      .on("close", () => req.complete || onClose());
  });
}
