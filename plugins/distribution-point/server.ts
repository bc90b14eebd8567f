/**
 * `bootmedia dp serve`: a small static server for a content library folder (labs, tests).
 * GET and HEAD, single byte ranges (RFC 9110 §14), ETag/Last-Modified and If-Range so a
 * resumed download never splices two versions of a file. No listings, nothing outside root.
 */
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";

/** What a test (or a lab) may do to a request before it is served: fault injection. */
export interface Intercepted {
  /** Answer with this status and no body instead of the file. */
  status?: number;
  /** Pass the body through this transform (throttle, corrupt, drop the connection…). */
  body?: (res: ServerResponse) => Transform;
}
export type Intercept = (req: IncomingMessage, rel: string) => Intercepted | undefined;

interface ServeOptions {
  root: string;
  /** Loopback by default: a lab server is never exposed by accident. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  intercept?: Intercept;
  /**
   * One line per request: method, path, status and the body bytes written to the response
   * (what a resumed download really cost), and `cut` when the response ended early.
   */
  log?: (line: string) => void;
}

export interface LibraryServer {
  /** Base URL of the library, ending in "/". */
  url: string;
  port: number;
  close(): Promise<void>;
}

type ByteRange = { start: number; end: number };

/** Parses `Range: bytes=a-b | a- | -n` against a size; undefined = serve the whole file. */
export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
  const m = header?.match(/^bytes=(\d*)-(\d*)$/);
  if (!m || (m[1] === "" && m[2] === "")) return undefined; // absent, multi-range or malformed: full body (allowed by §14.2)
  if (m[1] === "") {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}

/** Maps a URL path to a file under root, or undefined when it would leave root. */
async function resolveLibraryPath(root: string, urlPath: string): Promise<string | undefined> {
  let segments: string[];
  try {
    segments = decodeURIComponent(urlPath).split("/").slice(1);
  } catch {
    return undefined;
  }
  if (segments.some((s) => s === ".." || s === "." || s.includes("\0") || s.includes("\\"))) return undefined;
  const realRoot = await realpath(root);
  try {
    const file = await realpath(join(realRoot, ...segments));
    return file.startsWith(realRoot + sep) ? file : undefined; // symlinks out of root are not served
  } catch {
    return undefined;
  }
}

function createLibraryHandler(opts: Pick<ServeOptions, "root" | "intercept" | "log">) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const urlPath = new URL(req.url ?? "/", "http://x").pathname;
    const done = (status: number, bytes = 0, cut = false) =>
      opts.log?.(`${req.method} ${urlPath} ${status} ${bytes}${cut ? " cut" : ""}`);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return done(405);
    }
    const fault = opts.intercept?.(req, urlPath);
    if (fault?.status) {
      res.writeHead(fault.status, { "content-length": 0 }).end();
      return done(fault.status);
    }
    const file = await resolveLibraryPath(opts.root, urlPath);
    const st = file ? await stat(file).catch(() => undefined) : undefined;
    if (!file || !st?.isFile()) {
      res.writeHead(404, { "content-length": 0 }).end();
      return done(404);
    }
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      "content-type": file.endsWith(".json") ? "application/json" : "application/octet-stream",
      "accept-ranges": "bytes",
      etag,
      "last-modified": st.mtime.toUTCString(),
    };
    // If-Range: a range only applies to the version the client started with (§13.1.5).
    const ifRange = req.headers["if-range"];
    const range = ifRange && ifRange !== etag ? undefined : parseRange(req.headers.range, st.size);
    if (range === "unsatisfiable") {
      res.writeHead(416, { ...headers, "content-range": `bytes */${st.size}`, "content-length": 0 }).end();
      return done(416);
    }
    const { start, end } = range ?? { start: 0, end: st.size - 1 };
    const length = Math.max(0, end - start + 1);
    const status = range ? 206 : 200;
    res.writeHead(status, {
      ...headers,
      "content-length": length,
      ...(range ? { "content-range": `bytes ${start}-${end}/${st.size}` } : {}),
    });
    if (req.method === "HEAD" || length === 0) {
      res.end();
      return done(status);
    }
    const body = createReadStream(file, { start, end });
    let sent = 0;
    const count = new Transform({
      transform(chunk: Buffer, _e, cb) {
        sent += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await (fault?.body ? pipeline(body, fault.body(res), count, res) : pipeline(body, count, res));
      done(status, sent);
    } catch {
      res.destroy(); // the client sees a short body and may resume with a Range
      done(status, sent, true);
    }
  };
}

/** Starts the server; resolves once it listens. */
export async function serveLibrary(opts: ServeOptions): Promise<LibraryServer> {
  const handler = createLibraryHandler(opts);
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handler(req, res).catch(() => res.destroy());
  };
  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest)
    : createHttpServer(onRequest);
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `${opts.tls ? "https" : "http"}://${shownHost}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
