/**
 * Certificate dates against the build date ("now" = SOURCE_DATE_EPOCH when set): expired
 * is an error, expiring within EXPIRY_WARNING_DAYS a warning, not yet valid an error for an
 * imported certificate and a warning for a self-signed one (media made ahead of a rollout).
 */
import { diagnostic, type Diagnostic } from "../../base/diagnostics.ts";
import "./codes.ts";

const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` (midnight UTC) or an ISO 8601 date-time with a zone; undefined if neither. */
export function parseCertificateDate(text: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(
    text.trim(),
  );
  if (!m) return undefined;
  const d = new Date(m[4] ? text.trim().replace(" ", "T") : `${m[1]}-${m[2]}-${m[3]}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return undefined;
  // Reject rolled-over dates such as 2026-02-30.
  if (
    d.getUTCFullYear() !== Number(m[1]) ||
    d.getUTCMonth() + 1 !== Number(m[2]) ||
    (!m[4] && d.getUTCDate() !== Number(m[3]))
  )
    return undefined;
  return d;
}

export function checkValidity(
  notBefore: Date,
  notAfter: Date,
  now: Date,
  opts: { what: string; path: string; source: string; futureStart: "error" | "warning" },
): Diagnostic[] {
  const at = { path: opts.path, source: opts.source };
  const day = (d: Date) => d.toISOString().replace(/\.000Z$/, "Z");
  if (now.getTime() > notAfter.getTime()) {
    return [diagnostic("BM3405", `${opts.what} expired on ${day(notAfter)} (build date ${day(now)})`, at)];
  }
  const out: Diagnostic[] = [];
  if (now.getTime() < notBefore.getTime()) {
    out.push(
      diagnostic("BM3407", `${opts.what} is valid only from ${day(notBefore)} (build date ${day(now)})`, {
        ...at,
        severity: opts.futureStart,
      }),
    );
  }
  const left = (notAfter.getTime() - now.getTime()) / DAY_MS;
  if (left < EXPIRY_WARNING_DAYS) {
    out.push(
      diagnostic("BM3406", `${opts.what} expires on ${day(notAfter)}, ${Math.floor(left)} days after the build`, {
        ...at,
        severity: "warning",
      }),
    );
  }
  return out;
}
