/** What a testbed run reports, shared by its JSON, JUnit and HTML renderings. */
import type { Accel } from "./profiles.ts";
import type { Shard } from "./matrix.ts";
import type { CaseResult } from "./runner.ts";

export interface TestbedReport {
  schema: 1;
  accel: Accel;
  /** The shard this report covers; null for a whole matrix (unsharded or merged). */
  shard: Shard | null;
  summary: { total: number; ok: number; mismatched: number };
  cases: CaseResult[];
}

/** Text as XML/HTML character data or attribute value. */
export function escapeXml(text: string): string {
  // Control characters other than tab/newline are not allowed in XML 1.0 at all.
  return text
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "")
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
