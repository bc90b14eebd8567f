/** What a testbed run reports, shared by its JSON, JUnit and HTML renderings. */
import type { Accel } from "./profiles.ts";
import type { Shard } from "./matrix.ts";
import type { CaseResult } from "./runner.ts";

export interface TestbedReport {
  schema: 1;
  accel: Accel;
  /** The shard this report covers; null for a whole matrix (unsharded or merged). */
  shard: Shard | null;
  /** `notRun` only in a merge with shards that left no results (`testbed merge --partial`). */
  summary: { total: number; ok: number; mismatched: number; notRun?: number };
  cases: CaseResult[];
  /** The bootmedia version that ran it: a merge refuses to mix versions. */
  bootmedia?: string;
  /** The whole matrix the run belongs to (shard-identity.ts): a merge refuses shards of another. */
  matrix?: { fingerprint: string; cases: string[] };
  /** Shards that left no results, each with the cases it should have run (a partial merge). */
  notRun?: NotRunShard[];
}

export interface NotRunShard {
  shard: Shard;
  cases: string[];
  /** Why, as far as the merge can tell: the shard folders it could not read. */
  why: string;
}

/** Text as XML/HTML character data or attribute value. */
export function escapeXml(text: string): string {
  // Control characters other than tab/newline are not allowed in XML 1.0 at all.
  return text
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
