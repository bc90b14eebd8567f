/**
 * Checks for one answer of `bootmedia init`, as it is typed, with the codes `build` uses:
 * the schema (BM1xxx), management points (BM3009), the password reference and policy
 * (BM1007, BM3401), certificate dates (BM3404–BM3407). Synchronous: prompts validate per key.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { codeOf } from "../../core/spec-load.ts";
import type { MediaSpec } from "../../core/spec-schema.ts";
import type { SpecModel } from "../../core/spec-model.ts";
import { checkManagementPoints } from "../../plugins/media-config/management-points.ts";
import { checkPasswordPolicy } from "../../plugins/password/policy.ts";
import { checkValidity, parseCertificateDate } from "../../plugins/certificates/validity.ts";

/** The first problem an answer at `path` causes in `raw`, as "BMxxxx message", or undefined. */
export function checkAnswer(
  model: SpecModel,
  raw: Record<string, unknown>,
  path: string,
  now: Date,
  baseDir: string,
): string | undefined {
  const r = model.schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues.find((i) => i.path.join(".").startsWith(path) && codeOf(i) !== "BM1005");
    if (issue) return `${codeOf(issue)} ${issue.path.join(".")}: ${issue.message}`;
  }
  type Answers = {
    managementPoints?: { list?: unknown };
    security?: {
      password?: { env: string } | { file: string };
      certificate?: { selfSigned?: { start: unknown; expire?: unknown } };
    };
  };
  const spec = (r.success ? r.data : raw) as Answers;
  if (path.startsWith("managementPoints") && Array.isArray(spec.managementPoints?.list)) {
    const d = checkManagementPoints(spec as MediaSpec)[0];
    if (d) return `${d.code} ${d.message}`;
  }
  const password = spec.security?.password;
  if (path === "security.password" && password) {
    if ("env" in password) {
      const value = process.env[password.env];
      if (value === undefined)
        return `BM1007 the environment variable ${password.env} is not set (export it before building)`;
      const broken = checkPasswordPolicy(value)[0];
      if (broken) return `BM3401 the media password breaks the strength policy: ${broken}`;
    } else if (!existsSync(resolve(baseDir, password.file))) return `BM1007 ${password.file} does not exist`;
  }
  const self = spec.security?.certificate?.selfSigned;
  if (path.startsWith("security.certificate.selfSigned") && self) {
    const start = parseCertificateDate(String(self.start));
    const expire = parseCertificateDate(String(self.expire ?? self.start));
    if (!start || !expire) return "BM3404 give dates as YYYY-MM-DD (or an ISO 8601 date-time)";
    if (path.endsWith("expire")) {
      if (expire <= start) return "BM3404 the expiry must come after the start";
      const d = checkValidity(start, expire, now, {
        what: "the certificate",
        path,
        source: "init",
        futureStart: "warning",
      }).find((x) => x.severity === "error");
      if (d) return `${d.code} ${d.message}`;
    }
  }
  return undefined;
}
