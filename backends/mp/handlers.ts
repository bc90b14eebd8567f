/**
 * What the MP does with each POST, after the body is read: parse, authenticate (signature or
 * client certificate, timestamp, nonce), decide, and store before answering. Every refusal
 * stores nothing.
 */
import type { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { z } from "zod";
import { checkClientCertificate, checkReportKeyRequest, checkSignedRequest, parseReportKey } from "./auth.ts";
import { decidePolicyAnswer } from "./decide.ts";
import {
  LogRequestSchema,
  MAX_CLOCK_SKEW_SEC,
  MAX_LOG_BYTES,
  MP_HEADERS,
  PolicyRequestSchema,
  StatusRequestSchema,
  type MpAnswer,
} from "./protocol.ts";
import type { LoadedSite } from "./site-content.ts";
import type { MpState } from "./state.ts";

/** What a handler knows of the MP and the request. */
export interface HandlerContext {
  name: string;
  site: LoadedSite;
  state: MpState;
  /** The CAs of mutual TLS, or undefined for signed requests over HTTP. */
  cas: X509Certificate[] | undefined;
  peers: ReadonlyMap<string, string>;
  clock: number;
  req: IncomingMessage;
  body: Buffer;
  /** What the request log shows of the client. */
  note(fields: { mac?: string; uuid?: string; ip?: string; deploymentId?: string; run?: string; seq?: number }): void;
}

type Handler = (ctx: HandlerContext) => Promise<MpAnswer>;

export const handlePolicy: Handler = async (ctx) => {
  const parsed = parseBody(ctx.body, PolicyRequestSchema);
  if ("result" in parsed) return parsed;
  const req = parsed.data;
  ctx.note({ mac: req.mac, uuid: req.uuid, ip: req.ip });
  const reportKey = req.reportKey === undefined ? undefined : parseReportKey(req.reportKey);
  if (reportKey === null)
    return {
      result: "bad-request",
      why: "malformed",
      detail: "reportKey: not the base64 DER SubjectPublicKeyInfo of an EC P-256 public key",
    };
  const refused = authenticate(ctx, req.timestamp) ?? claimNonce(ctx, req.nonce);
  if (refused) return refused;
  const { site, content } = ctx.site;
  const answer = decidePolicyAnswer(site, { name: ctx.name, peerUrl: (n) => ctx.peers.get(n) }, req, content);
  if (answer.result === "policy") {
    ctx.note({ deploymentId: answer.deploymentId });
    await ctx.state.recordPolicy(
      {
        time: ctx.clock,
        mac: req.mac,
        computer: answer.computer,
        deploymentId: answer.deploymentId,
        taskSequence: answer.taskSequence,
        stepCount: answer.stepCount ?? 0,
        nonce: req.nonce,
        ...(req.reportKey === undefined ? {} : { reportKey: req.reportKey }),
      },
      reportKey,
    );
  }
  return answer;
};

export const handleStatus: Handler = async (ctx) => {
  const parsed = parseBody(ctx.body, StatusRequestSchema);
  if ("result" in parsed) return parsed;
  const event = parsed.data;
  ctx.note({ mac: event.mac, deploymentId: event.deploymentId, run: event.run, seq: event.seq });
  const refused = authenticate(ctx, event.timestamp, event);
  if (refused) return refused;
  // The very same signed body again (a client that never saw the answer): it is stored, say so.
  if (ctx.state.isResent(event)) return { result: "duplicate", seq: event.seq };
  const replayed = claimNonce(ctx, event.nonce);
  if (replayed) return replayed;
  if (!ctx.state.hasGiven(event.mac, event.deploymentId))
    return { result: "unknown-deployment", deploymentId: event.deploymentId };
  const result = await ctx.state.addStatus(event, ctx.clock);
  return { result, seq: event.seq };
};

export const handleLog: Handler = async (ctx) => {
  const parsed = parseBody(ctx.body, LogRequestSchema);
  if ("result" in parsed) return parsed;
  const req = parsed.data;
  ctx.note({ mac: req.mac, deploymentId: req.deploymentId, run: req.run });
  const refused = authenticate(ctx, req.timestamp, req) ?? claimNonce(ctx, req.nonce);
  if (refused) return refused;
  if (!ctx.state.hasGiven(req.mac, req.deploymentId))
    return { result: "unknown-deployment", deploymentId: req.deploymentId };
  const log = Buffer.from(req.log, "base64");
  if (log.length > MAX_LOG_BYTES)
    return { result: "bad-request", why: "too-large", detail: `the log is at most ${MAX_LOG_BYTES} bytes` };
  await ctx.state.addLog({
    mac: req.mac,
    deploymentId: req.deploymentId,
    run: req.run,
    log,
    nonce: req.nonce,
    time: ctx.clock,
  });
  return { result: "accepted", bytes: log.length };
};

function parseBody<T>(body: Buffer, schema: z.ZodType<T>): { data: T } | MpAnswer {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return { result: "bad-request", why: "malformed", detail: "body is not JSON" };
  }
  const r = schema.safeParse(json);
  if (r.success) return { data: r.data };
  return {
    result: "bad-request",
    why: "malformed",
    detail: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
  };
}

/**
 * The client certificate (mutual TLS) or the body's signature, then the replay window. A
 * status or log request (`subject` given) that names a report key is judged by that key
 * alone, over HTTP and HTTPS alike (the installed OS has no client certificate).
 */
function authenticate(
  ctx: HandlerContext,
  timestamp: number,
  subject?: { mac: string; deploymentId: string },
): MpAnswer | null {
  const { req } = ctx;
  const reportKeySha256 = subject && header(req, MP_HEADERS.reportKey);
  const rejected = reportKeySha256
    ? checkReportKeyRequest((sha256) => ctx.state.reportKey(sha256), {
        body: ctx.body,
        signature: header(req, MP_HEADERS.signature),
        reportKeySha256,
        mac: subject.mac,
        deploymentId: subject.deploymentId,
      })
    : ctx.cas
      ? checkClientCertificate((req.socket as TLSSocket).getPeerCertificate?.()?.raw, ctx.cas, ctx.clock)
      : checkSignedRequest(
          ctx.site.site,
          {
            body: ctx.body,
            signature: header(req, MP_HEADERS.signature),
            certificateSha256: header(req, MP_HEADERS.certificate),
          },
          ctx.clock,
        );
  if (rejected) return { result: "certificate-rejected", why: rejected };
  if (Math.abs(ctx.clock - timestamp) > MAX_CLOCK_SKEW_SEC) return { result: "bad-request", why: "stale-timestamp" };
  return null;
}

function claimNonce(ctx: HandlerContext, nonce: string): MpAnswer | null {
  return ctx.state.claimNonce(nonce, ctx.clock) ? null : { result: "bad-request", why: "replayed-nonce" };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
