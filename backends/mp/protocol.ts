/**
 * The bootmedia management-point wire protocol, version 1 (docs/mp-protocol.md). Shaped for
 * a busybox-sh agent: a one-line JSON request it can `printf`, signed with `openssl dgst`,
 * sent as raw HTTP/1.1 through busybox `nc` (or `openssl s_client` for mutual TLS); answers
 * are one JSON line with a Content-Length, the last line of the response, so `tail -n 1`
 * and `sed` read them whatever the status (busybox wget would drop a 4xx body).
 */
import { z } from "zod";

export const PROTOCOL_VERSION = 1;

/** Every path the simulator answers; anything else is 404 `not-found`. */
export const MP_PATHS = {
  ping: "/bootmedia/v1/ping",
  policy: "/bootmedia/v1/policy",
  /** One task-sequence event of a deployment run (step start, progress, result). */
  status: "/bootmedia/v1/status",
  /** The engine's log at the end of a run or on failure. */
  log: "/bootmedia/v1/log",
} as const;

/** Largest bodies each path reads (a larger one is `too-large`, read no further). */
export const MAX_BODY_BYTES = {
  policy: 16 * 1024,
  status: 4 * 1024,
  log: 768 * 1024,
} as const satisfies Record<Exclude<keyof typeof MP_PATHS, "ping">, number>;
/** Largest decoded log (base64 takes 4/3: 512 KiB fits the 768 KiB body). */
export const MAX_LOG_BYTES = 512 * 1024;

/** Header names (lower case: node's `IncomingMessage.headers` keys). */
export const MP_HEADERS = {
  /** base64 of the DER ECDSA-SHA256 signature of the exact body bytes (`openssl dgst -sha256 -sign`). */
  signature: "x-bootmedia-signature",
  /** hex SHA-256 of the media certificate's DER (the `.cer` a build writes; `media.json` certificate.sha256). */
  certificate: "x-bootmedia-certificate-sha256",
  /** Status and log requests only: hex SHA-256 of the report key's DER SPKI, given before with a policy request. */
  reportKey: "x-bootmedia-report-key-sha256",
  /** The answer's `result`, repeated for clients that read headers first (curl -D, logs). */
  result: "x-bootmedia-result",
} as const;

export const MP_MODES = ["dynamic", "site-based"] as const;
export type MpMode = (typeof MP_MODES)[number];

export const UDA_MODES = ["auto", "pending", "none"] as const;
export type UdaMode = (typeof UDA_MODES)[number];

/** The seed's user-device-affinity setting as the task-sequence variable the MP echoes. */
export const UDA_VARIABLE = {
  name: "SMSTSAssignUsersMode",
  value: { auto: "Auto", pending: "Pending", none: "Disabled" },
} as const satisfies {
  name: string;
  value: Record<UdaMode, string>;
};

/** How far the request's timestamp may be from the MP's clock, in seconds (replay window). */
export const MAX_CLOCK_SKEW_SEC = 300;

/**
 * The policy request body: one JSON object. `ip` is the client's own address: the simulator
 * sees every guest connection come from 127.0.0.1 (QEMU's guestfwd), a real MP would use the
 * source address. `nonce` is 16-64 hex digits, never reused within the replay window.
 */
export const PolicyRequestSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  mediaId: z.string().min(1).max(128),
  taskSequence: z.string().min(1).max(64),
  mode: z.enum(MP_MODES),
  mac: z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, "lower-case aa:bb:cc:dd:ee:ff"),
  uuid: z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "lower-case SMBIOS UUID")
    .optional(),
  ip: z.ipv4().optional(),
  unknownComputers: z.boolean(),
  uda: z.enum(UDA_MODES),
  /**
   * The report key the client drew for this boot: base64 of the DER SubjectPublicKeyInfo of an
   * EC P-256 public key (91 bytes, 124 characters). Later status and log requests of the
   * deployment may be signed with it instead of the media key (docs/mp-protocol.md "Report keys").
   */
  reportKey: z.base64().max(256).optional(),
  timestamp: z.int().nonnegative(),
  nonce: z.string().regex(/^[0-9a-f]{16,64}$/),
});
export type PolicyRequest = z.infer<typeof PolicyRequestSchema>;

const Mac = PolicyRequestSchema.shape.mac;
const Nonce = PolicyRequestSchema.shape.nonce;
const DeploymentId = z.string().min(1).max(128);
/** One run of a deployment on a client: 16 lower-case hex digits the engine draws when it starts (`openssl rand -hex 8`). */
const Run = z.string().regex(/^[0-9a-f]{16}$/, "16 lower-case hex digits");

/** `deployed` (step 0): the installed OS booted from the disk and reports itself. */
const STATUS_STATES = ["start", "progress", "success", "failure", "skipped", "deployed"] as const;

/**
 * One status event. `run` names the run of the deployment (a machine re-imaged runs it again,
 * under a new run), `seq` (1, 2, 3… per run) is the client's idempotency key within it: the MP
 * stores an event once per (mac, deploymentId, run, seq). `step` 0 is the task sequence as a whole.
 */
export const StatusRequestSchema = z
  .strictObject({
    v: z.literal(PROTOCOL_VERSION),
    mac: Mac,
    deploymentId: DeploymentId,
    run: Run,
    seq: z.int().min(1).max(1_000_000_000),
    step: z.int().min(0).max(100_000),
    of: z.int().min(0).max(100_000),
    name: z.string().max(256),
    state: z.enum(STATUS_STATES),
    exitCode: z.int().min(-2_147_483_648).max(2_147_483_647).optional(),
    message: z.string().max(512).optional(),
    timestamp: z.int().nonnegative(),
    nonce: Nonce,
  })
  .refine((e) => e.state !== "deployed" || e.step === 0, {
    path: ["step"],
    message: "a deployed event is step 0 (the task sequence as a whole)",
  });
export type StatusRequest = z.infer<typeof StatusRequestSchema>;

/** The engine's log of one run, base64 (at most MAX_LOG_BYTES decoded). */
export const LogRequestSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  mac: Mac,
  deploymentId: DeploymentId,
  run: Run,
  timestamp: z.int().nonnegative(),
  nonce: Nonce,
  log: z.base64(),
});
type LogRequest = z.infer<typeof LogRequestSchema>;

/** Every `result` an answer can carry, with its HTTP status. */
export const MP_RESULTS = {
  pong: 200,
  policy: 200,
  /** Dynamic media whose client sits in another MP's boundary: ask that MP (never a 3xx: wget would follow it). */
  redirect: 200,
  "unknown-computer": 403,
  "no-deployment": 404,
  "certificate-rejected": 403,
  "bad-request": 400,
  "not-found": 404,
  /** A status event or log stored. */
  accepted: 200,
  /** A status event whose (run, seq) was already stored: nothing stored again. */
  duplicate: 200,
  /** A status or log for a deployment this MP never gave this MAC. */
  "unknown-deployment": 403,
} as const;
export type MpResult = keyof typeof MP_RESULTS;

/** Why a certificate was refused (`certificate-rejected` answers). */
export const CERT_REJECTIONS = [
  "missing-signature",
  "bad-signature",
  "unregistered",
  "blocked",
  "expired",
  "not-yet-valid",
  "missing-certificate",
  "untrusted",
  /** Report-key requests: the MP never took this key with a policy. */
  "unknown-report-key",
  /** Report-key requests: the key came with a policy for another MAC or deployment. */
  "wrong-report-key",
] as const;
export type CertRejection = (typeof CERT_REJECTIONS)[number];

/** Why a request was malformed (`bad-request` answers). */
const BAD_REQUESTS = ["malformed", "stale-timestamp", "replayed-nonce", "too-large"] as const;
export type BadRequestWhy = (typeof BAD_REQUESTS)[number];

export interface PolicyAnswer {
  result: "policy";
  mp: string;
  deploymentId: string;
  taskSequence: string;
  /** The site's name for the client, or "Unknown" for an unknown computer. */
  computer: string;
  variables: Record<string, string>;
  /** Present only when the task sequence has steps: how many (flattened, groups included). */
  stepCount?: number;
  /** base64 of the wire text (core/task-sequence/wire.ts). */
  steps?: string;
  /** Package id → folder URLs on the distribution points, in the order to try them. */
  contentLocations?: Record<string, string[]>;
}

export type MpAnswer =
  | { result: "pong"; mp: string; v: typeof PROTOCOL_VERSION }
  | PolicyAnswer
  | { result: "redirect"; mp: string }
  | { result: "unknown-computer" | "no-deployment"; mp: string }
  | { result: "certificate-rejected"; why: CertRejection }
  | { result: "bad-request"; why: BadRequestWhy; detail?: string }
  | { result: "not-found" }
  | { result: "accepted" | "duplicate"; seq: number }
  | { result: "accepted"; bytes: number }
  | { result: "unknown-deployment"; deploymentId: string };

/** The one serialisation of answers: a single line, keys in a fixed order, so `grep -o` works in sh. */
export function renderAnswer(answer: MpAnswer): string {
  return `${JSON.stringify(answer)}\n`;
}

/** The exact bytes a client signs and posts: compact JSON, keys in schema order. */
export function renderPolicyRequest(req: PolicyRequest): string {
  return renderOrdered(PolicyRequestSchema.shape, req);
}

export function renderStatusRequest(req: StatusRequest): string {
  return renderOrdered(StatusRequestSchema.shape, req);
}

export function renderLogRequest(req: LogRequest): string {
  return renderOrdered(LogRequestSchema.shape, req);
}

function renderOrdered(shape: object, req: object): string {
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(shape)) {
    const value = (req as Record<string, unknown>)[key];
    if (value !== undefined) ordered[key] = value;
  }
  return JSON.stringify(ordered);
}
