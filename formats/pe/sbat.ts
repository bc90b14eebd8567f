/**
 * SBAT (UEFI Secure Boot Advanced Targeting, shim's SBAT.md): a CSV of
 * `component,generation,vendor,package,version,url` in an image's `.sbat` section, and the
 * revocation levels `component,generation` that shim holds (its `.sbatlevel` section, the
 * SbatLevel UEFI variable). A binary is revoked when one of its components has a generation
 * below the level's generation for that component.
 */
import { decodeRecord, RecordBoundsError } from "../record.ts";
import { SBAT_LEVEL_HEADER } from "./structures.ts";

export interface SbatEntry {
  component: string;
  generation: number;
  vendor: string;
  package: string;
  version: string;
  url: string;
}

export interface SbatLevel {
  /** The level's date stamp (`sbat,1,<date>` first line), e.g. "2025051000". */
  date: string;
  /** Minimum generation per component. */
  minimum: Record<string, number>;
}

const SBAT_LIMITS = { lines: 256, fields: 6 } as const;

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .slice(0, SBAT_LIMITS.lines);
}

/** Parses `.sbat` text; lines with no whole-number generation are kept out (shim refuses such binaries; the caller sees fewer entries). */
export function parseSbat(text: string): SbatEntry[] {
  const out: SbatEntry[] = [];
  for (const line of lines(text)) {
    const f = line.split(",", SBAT_LIMITS.fields + 1);
    const generation = Number(f[1]);
    if (!f[0] || !Number.isInteger(generation) || generation < 0) continue;
    out.push({
      component: f[0],
      generation,
      vendor: f[2] ?? "",
      package: f[3] ?? "",
      version: f[4] ?? "",
      url: f[5] ?? "",
    });
  }
  return out;
}

/** Parses one revocation level text (`sbat,1,<date>` then `component,generation` lines). */
export function parseSbatLevel(text: string): SbatLevel | null {
  const [head, ...rest] = lines(text);
  const h = head?.split(",");
  if (!h || h[0] !== "sbat" || !h[2]) return null;
  const minimum: Record<string, number> = {};
  for (const line of rest) {
    const [component, gen] = line.split(",");
    const g = Number(gen);
    if (component && Number.isInteger(g)) minimum[component] = g;
  }
  return { date: h[2], minimum };
}

/** The previous (applied automatically) and latest levels built into a shim's `.sbatlevel` section. */
export function readSbatLevelSection(section: Buffer): { previous: SbatLevel | null; latest: SbatLevel | null } | null {
  let h;
  try {
    h = decodeRecord(SBAT_LEVEL_HEADER, section);
  } catch (e) {
    if (e instanceof RecordBoundsError) return null;
    throw e;
  }
  const textAt = (off: number): SbatLevel | null => {
    const start = 4 + off;
    if (start >= section.length) return null;
    const end = section.indexOf(0, start);
    return parseSbatLevel(section.toString("utf8", start, end < 0 ? section.length : end));
  };
  return { previous: textAt(h.previousAt), latest: textAt(h.latestAt) };
}

/** Components of `entries` whose generation is below `level`'s minimum. */
export function revokedBy(
  entries: readonly SbatEntry[],
  level: SbatLevel,
): Array<{ component: string; generation: number; minimum: number }> {
  const out = [];
  for (const e of entries) {
    const min = Object.hasOwn(level.minimum, e.component) ? level.minimum[e.component] : undefined;
    if (min !== undefined && e.generation < min)
      out.push({ component: e.component, generation: e.generation, minimum: min });
  }
  return out;
}
