/**
 * What went wrong talking to a distribution point, as a coded error plus whether trying the
 * same DP again may help (timeouts, dropped connections, 5xx) or not (401/403, 404, TLS).
 */
import { BootmediaError } from "../../base/errors.ts";
import { dpError } from "./errors.ts";
import "../../core/codes.ts";
import "./codes.ts";

export interface Failure {
  /** The DP base URL the attempt went to. */
  dp: string;
  error: BootmediaError;
  /** Worth retrying on the same DP (with backoff); otherwise move on to the next DP. */
  transient: boolean;
}

/** Thrown inside one attempt; the retry loop turns it into a Failure. */
export class AttemptError extends Error {
  constructor(
    readonly error: BootmediaError,
    readonly transient: boolean,
  ) {
    super(error.message);
  }
}

/** What the request was for, so errors name the package and the file. */
export interface Subject {
  packageId: string;
  /** Media path of the file, or "package.json" for the manifest. */
  file: string;
}

const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_SIGNATURE_FAILURE",
]);

function isTlsError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? "";
  return (
    TLS_CODES.has(code) ||
    code.startsWith("ERR_SSL_") ||
    /SSL routines|certificate/i.test((e as Error | undefined)?.message ?? "")
  );
}

const what = (s: Subject) => (s.file === "package.json" ? `package ${s.packageId}` : `${s.packageId}/${s.file}`);

/** A failure from an HTTP status that is not the bytes asked for. */
export function statusFailure(status: number, url: string, dp: string, s: Subject): AttemptError {
  const host = new URL(dp).host;
  if (status === 401 || status === 403) {
    return new AttemptError(
      dpError("BM2102", `no read access to the content library on ${host} (GET ${url} → ${status})`, { where: dp }),
      false,
    );
  }
  if (status === 404) {
    const e =
      s.file === "package.json"
        ? new BootmediaError(
            "BM2002",
            `package ${s.packageId} is not on the distribution point ${host} (GET ${url} → 404)`,
            { where: s.packageId },
          )
        : new BootmediaError(
            "BM2005",
            `the manifest of package ${s.packageId} lists ${s.file}, but the distribution point ${host} has no such file (GET ${url} → 404)`,
            { where: what(s) },
          );
    return new AttemptError(e, false);
  }
  const transient = status >= 500 || status === 408 || status === 429;
  return new AttemptError(
    dpError(transient ? "BM2101" : "BM2104", `${what(s)}: GET ${url} → HTTP ${status}`, { where: dp }),
    transient,
  );
}

/** A failure from the socket: TLS (not retried), or a dropped/refused/timed-out connection (retried). */
export function networkFailure(e: unknown, url: string, dp: string, s: Subject): AttemptError {
  if (e instanceof AttemptError) return e;
  const host = new URL(dp).host;
  const code = (e as NodeJS.ErrnoException).code;
  const detail = code ? `${code}: ${(e as Error).message}` : (e as Error).message;
  if (isTlsError(e)) {
    return new AttemptError(
      dpError(
        "BM2103",
        `TLS failure talking to ${host}: ${detail}; pass its CA with --ca-file (contentLibrary.caFile)`,
        { where: dp },
      ),
      false,
    );
  }
  return new AttemptError(dpError("BM2101", `${what(s)}: GET ${url} failed: ${detail}`, { where: dp }), true);
}

/**
 * One error for the user after every DP failed: the shared code when all failed alike
 * (403 everywhere is an access problem), else BM2101 listing each DP and its failure.
 */
export function summarizeFailures(failures: Failure[], s: Subject): BootmediaError {
  const first = failures[0]!;
  if (failures.length === 1) return first.error;
  const lines = failures.map((f) => `  ${f.dp}: ${f.error.code} ${f.error.message}`).join("\n");
  const code = failures.every((f) => f.error.code === first.error.code) ? first.error.code : "BM2101";
  const message = `${what(s)}: every distribution point failed; tried, in order:\n${lines}`;
  return code === "BM2101" ? dpError("BM2101", message) : new BootmediaError(code, message, { hint: first.error.hint });
}
