/**
 * A node client that behaves like the boot agent (plugins/boot-image/agent/lib/bootmedia-mp.sh): builds the request
 * from the media settings and the machine's facts, signs it with the media key (self-signed)
 * or presents the certificate over mutual TLS (https MPs), walks the MP list in priority order
 * and follows at most one redirect. Tests use it to drive the simulator as a guest would.
 */
import { createHash, createPublicKey, createSign, randomBytes, type KeyObject } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import {
  MP_HEADERS,
  MP_PATHS,
  PROTOCOL_VERSION,
  renderLogRequest,
  renderPolicyRequest,
  renderStatusRequest,
  type MpAnswer,
  type MpMode,
  type PolicyRequest,
  type StatusRequest,
  type UdaMode,
} from "./protocol.ts";

/** The media facts a request carries (media.env / media.json). */
export interface AgentMedia {
  id: string;
  taskSequence: string;
  mode: MpMode;
  /** MP URLs in priority order. */
  mps: string[];
  unknownComputers: boolean;
  uda: UdaMode;
}

export interface AgentCredentials {
  /** Media certificate, DER (its SHA-256 goes in the header; over TLS it is the client certificate). */
  certDer: Buffer;
  key: KeyObject | string;
  /** PEM for mutual TLS: the client certificate chain and the CA that issued the MP's certificate. */
  tls?: { certPem: string; ca?: string };
}

interface AgentClient {
  mac: string;
  uuid?: string;
  ip?: string;
  /** The report key drawn for this boot: base64 DER SPKI of its public half, sent with the policy request. */
  reportKey?: string;
}

/**
 * What the installed OS signs with: the report key it was handed (no media key, no client
 * certificate), and over https the CA of the MP's certificate.
 */
interface ReportKeyCredentials {
  reportKey: KeyObject;
  ca?: string;
}

/** The two forms of a report key the protocol names: base64 DER SPKI (policy) and its hex SHA-256 (header). */
export function describeReportKey(key: KeyObject): { spki: string; sha256: string } {
  const der = createPublicKey(key).export({ type: "spki", format: "der" });
  return { spki: der.toString("base64"), sha256: createHash("sha256").update(der).digest("hex") };
}

type Credentials = AgentCredentials | ReportKeyCredentials;

export interface Contact {
  url: string;
  status: number | null;
  answer: MpAnswer | null;
  error?: string;
}

interface WalkResult {
  contacts: Contact[];
  /** The contact that decided, or null when no MP answered. */
  final: Contact | null;
}

/** Asks the MPs in order; a redirect is followed once; an unreachable MP is skipped. */
export async function walkManagementPoints(
  media: AgentMedia,
  client: AgentClient,
  creds: AgentCredentials | null,
  nowSec: number,
): Promise<WalkResult> {
  const contacts: Contact[] = [];
  for (const url of media.mps) {
    let c = await askManagementPoint(url, media, client, creds, nowSec);
    contacts.push(c);
    if (c.answer?.result === "redirect" && media.mode === "dynamic") {
      c = await askManagementPoint(c.answer.mp, media, client, creds, nowSec);
      contacts.push(c);
    }
    if (c.answer) return { contacts, final: c };
  }
  return { contacts, final: null };
}

export function buildPolicyRequest(
  media: AgentMedia,
  client: AgentClient,
  nowSec: number,
  nonce = randomBytes(16).toString("hex"),
): PolicyRequest {
  return {
    v: PROTOCOL_VERSION,
    mediaId: media.id,
    taskSequence: media.taskSequence,
    mode: media.mode,
    mac: client.mac,
    uuid: client.uuid,
    ip: client.ip,
    unknownComputers: media.unknownComputers,
    uda: media.uda,
    reportKey: client.reportKey,
    timestamp: nowSec,
    nonce,
  };
}

/** One POST of a fresh request to one MP. */
export async function askManagementPoint(
  url: string,
  media: AgentMedia,
  client: AgentClient,
  creds: AgentCredentials | null,
  nowSec: number,
): Promise<Contact> {
  const body = Buffer.from(renderPolicyRequest(buildPolicyRequest(media, client, nowSec)));
  return postBody(url, body, signedHeaders(url, body, creds), creds);
}

/** What a status event carries besides the envelope (v, timestamp, nonce). */
export type StatusEvent = Omit<StatusRequest, "v" | "timestamp" | "nonce">;

/**
 * Posts one status event, signed like the policy request. Each call is a fresh request (new
 * timestamp and nonce): a client that retries an event sends it again with the same `run` and
 * `seq`, and the MP answers `duplicate` when it already stored it.
 */
export function postStatus(
  url: string,
  event: StatusEvent,
  creds: Credentials | null,
  nowSec: number,
): Promise<Contact> {
  const req: StatusRequest = {
    v: PROTOCOL_VERSION,
    ...event,
    timestamp: nowSec,
    nonce: randomBytes(16).toString("hex"),
  };
  const body = Buffer.from(renderStatusRequest(req));
  return postBody(url, body, signedHeaders(url, body, creds), creds, MP_PATHS.status);
}

/** A run id as the engine draws it: 16 lower-case hex digits. */
export const newRunId = (): string => randomBytes(8).toString("hex");

/** Uploads the engine's log of one deployment run. */
export function postLog(
  url: string,
  upload: { mac: string; deploymentId: string; run: string; log: Buffer },
  creds: Credentials | null,
  nowSec: number,
): Promise<Contact> {
  const body = Buffer.from(
    renderLogRequest({
      v: PROTOCOL_VERSION,
      mac: upload.mac,
      deploymentId: upload.deploymentId,
      run: upload.run,
      timestamp: nowSec,
      nonce: randomBytes(16).toString("hex"),
      log: upload.log.toString("base64"),
    }),
  );
  return postBody(url, body, signedHeaders(url, body, creds), creds, MP_PATHS.log);
}

/**
 * Self-signed media sign the exact body bytes; over https the TLS client certificate speaks
 * instead. A report key signs over http and https alike.
 */
export function signedHeaders(url: string, body: Buffer, creds: Credentials | null): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (creds && "reportKey" in creds) {
    headers[MP_HEADERS.signature] = createSign("sha256").update(body).sign(creds.reportKey).toString("base64");
    headers[MP_HEADERS.reportKey] = describeReportKey(creds.reportKey).sha256;
  } else if (creds && !url.startsWith("https:")) {
    headers[MP_HEADERS.signature] = createSign("sha256").update(body).sign(creds.key).toString("base64");
    headers[MP_HEADERS.certificate] = createHash("sha256").update(creds.certDer).digest("hex");
  }
  return headers;
}

/** Sends exact bytes (tests use it to alter a signed body). */
export function postBody(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  creds: Credentials | null,
  path: string = MP_PATHS.policy,
): Promise<Contact> {
  const target = new URL(path, url);
  const tls = target.protocol === "https:";
  const media = creds && "certDer" in creds ? creds : null;
  const ca = media ? media.tls?.ca : (creds as ReportKeyCredentials | null)?.ca;
  const options = {
    method: "POST",
    headers: { ...headers, "content-length": String(body.length) },
    ...(tls
      ? {
          cert: media?.tls?.certPem,
          key: media ? keyPem(media.key) : undefined,
          ca,
          rejectUnauthorized: ca !== undefined,
        }
      : {}),
  };
  return new Promise((resolve) => {
    const req = (tls ? httpsRequest : httpRequest)(target, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let answer: MpAnswer | null = null;
        try {
          answer = JSON.parse(text) as MpAnswer;
        } catch {
          /* a non-protocol answer counts as none */
        }
        resolve({ url, status: res.statusCode ?? null, answer });
      });
    });
    req.on("error", (e) => resolve({ url, status: null, answer: null, error: e.message }));
    req.end(body);
  });
}

function keyPem(key: KeyObject | string): string {
  return typeof key === "string" ? key : (key.export({ type: "pkcs8", format: "pem" }) as string);
}
