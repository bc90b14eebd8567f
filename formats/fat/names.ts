/**
 * FAT names: validating long names, deriving unique 8.3 short names deterministically
 * (Microsoft FAT spec §7.3 "basis-name generation" with "~N" numeric tails), the LFN
 * checksum (§7.2), volume labels and DOS timestamps (§6.3).
 */
import { BootmediaError } from "../../base/errors.ts";
import "./codes.ts";

const SHORT_SPECIALS = "!#$%&'()-@^_`{}~";
const LONG_FORBIDDEN = /[\u0000-\u001f"*/:<>?\\|]/;
const MAX_LONG_NAME_UNITS = 255;

function isShortChar(c: string): boolean {
  return (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || SHORT_SPECIALS.includes(c);
}

/** Throws BM3204 unless `name` can be stored as a FAT long name. */
export function checkLongName(name: string, where: string): void {
  let problem: string | undefined;
  if (name.length > MAX_LONG_NAME_UNITS)
    problem = `is ${name.length} UTF-16 units long (FAT allows ${MAX_LONG_NAME_UNITS})`;
  else if (LONG_FORBIDDEN.test(name)) problem = "holds a character FAT forbids";
  else if (name.endsWith(".") || name.endsWith(" ")) problem = "ends with a dot or a space, which FAT drops";
  else if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name))
    problem = "is not valid Unicode (lone surrogate)";
  if (problem) throw new BootmediaError("BM3204", `The name ${JSON.stringify(name)} ${problem}.`, { where });
}

interface ShortName {
  /** 11 bytes: name padded to 8, extension padded to 3 (spec §6.1). */
  raw: string;
  /** True when the long name must be stored in LFN entries (it differs from the short one). */
  needsLfn: boolean;
}

interface Basis {
  base: string;
  ext: string;
  lossy: boolean;
  fits: boolean;
}

/** ASCII characters allowed in short names as they are (upper case, digits, specials). */
const SHORT_ASCII = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + SHORT_SPECIALS) SHORT_ASCII[c.charCodeAt(0)] = 1;

/**
 * Basis name of spec §7.3: uppercase, drop spaces and leading dots, map others to "_".
 * Only as much is converted as decides the outcome: 9 characters of the base (8 fit) and 4
 * of the extension; the rest of a long name would be cut off anyway.
 */
function makeBasis(name: string): Basis {
  let lossy = false;
  const convert = (s: string, limit: number): string => {
    let out = "";
    for (const ch of s) {
      if (out.length >= limit) break;
      if (ch === " " || ch === ".") continue;
      const code = ch.charCodeAt(0);
      if (code < 128) {
        const up = code >= 97 && code <= 122 ? code - 32 : code;
        if (SHORT_ASCII[up]) {
          out += String.fromCharCode(up);
          continue;
        }
      } else {
        const up = ch.toUpperCase();
        if (up.length === 1 && isShortChar(up)) {
          out += up;
          continue;
        }
      }
      out += "_";
      lossy = true;
    }
    return out;
  };
  const stripped = name.replace(/^[. ]+/, "");
  const dot = stripped.lastIndexOf(".");
  const base = convert(dot >= 0 ? stripped.slice(0, dot) : stripped, 9) || "_";
  const ext = dot >= 0 ? convert(stripped.slice(dot + 1), 4) : "";
  const fits =
    !lossy &&
    base.length <= 8 &&
    ext.length <= 3 &&
    stripped === name &&
    !/[ ]/.test(name) &&
    (dot < 0 || stripped.indexOf(".") === dot);
  return { base, ext, lossy, fits };
}

function formatRaw(base: string, ext: string): string {
  return base.slice(0, 8).padEnd(8, " ") + ext.slice(0, 3).padEnd(3, " ");
}

/**
 * The first free "~N" name of a basis, N from 1 (spec §7.3). Names with the same prefix, tail
 * width and extension compete for the same N, so the next candidate of each such group is
 * remembered: all smaller N are taken. Without it, a folder of n similar names cost O(n^2)
 * (20,000 names: 150 s).
 */
function takeNumberedName(b: Basis, taken: Set<string>, nextTail: Map<string, number>): string | undefined {
  for (let digits = 1; digits <= 6; digits++) {
    const lo = digits === 1 ? 1 : 10 ** (digits - 1),
      hi = 10 ** digits - 1;
    const prefix = b.base.slice(0, 8 - (digits + 1));
    const group = `${prefix}\0${b.ext}\0${digits}`;
    for (let n = Math.max(lo, nextTail.get(group) ?? lo); n <= hi; n++) {
      const raw = formatRaw(`${prefix}~${n}`, b.ext);
      if (!taken.has(raw)) {
        taken.add(raw);
        nextTail.set(group, n + 1);
        return raw;
      }
    }
    nextTail.set(group, hi + 1);
  }
  return undefined;
}

/**
 * Short names for the children of one directory, in the order given. Names that are already
 * a plain upper-case 8.3 name keep it; the others get their basis, or basis + "~N" when the
 * basis is lossy, too long or taken. Deterministic: depends only on the names and their order.
 */
export function makeShortNames(names: readonly string[], where: string): ShortName[] {
  const taken = new Set<string>();
  const nextTail = new Map<string, number>();
  const out: ShortName[] = new Array(names.length);
  const bases = names.map(makeBasis);
  // Exact 8.3 names first, so a generated "~N" name never steals a name given verbatim.
  names.forEach((name, i) => {
    const b = bases[i];
    const raw = formatRaw(b.base, b.ext);
    if (b.fits && name === name.toUpperCase() && !taken.has(raw)) {
      taken.add(raw);
      out[i] = { raw, needsLfn: false };
    }
  });
  names.forEach((name, i) => {
    if (out[i]) return;
    const b = bases[i];
    const plain = formatRaw(b.base, b.ext);
    if (b.fits && !taken.has(plain)) {
      taken.add(plain);
      out[i] = { raw: plain, needsLfn: true };
      return;
    }
    const raw = takeNumberedName(b, taken, nextTail);
    if (raw !== undefined) {
      out[i] = { raw, needsLfn: true };
      return;
    }
    throw new BootmediaError("BM3204", `No free 8.3 short name is left for ${JSON.stringify(name)}.`, { where });
  });
  return out;
}

/** LFN checksum over the 11-byte short name (Microsoft FAT spec §7.2). */
export function checksumShortName(raw: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + raw[i]) & 0xff;
  return sum;
}

/** Number of LFN entries a long name takes (13 UTF-16 units each, spec §7). */
export function countLfnEntries(name: string): number {
  return Math.ceil(name.length / 13);
}

/** Upper-cased label padded to 11 bytes; throws BM3203 when FAT cannot hold it. */
export function makeVolumeLabel(label: string | undefined): string | undefined {
  if (label === undefined || label === "") return undefined;
  const up = label.toUpperCase();
  if (up.length > 11 || up.startsWith(" ") || [...up].some((c) => c !== " " && !isShortChar(c))) {
    throw new BootmediaError("BM3203", `The volume label ${JSON.stringify(label)} is not valid on FAT.`);
  }
  return up.padEnd(11, " ");
}

export interface DosTimestamp {
  date: number;
  time: number;
}

/** DOS date/time (spec §6.3) in UTC, clamped to the range FAT can hold (1980..2107). */
export function toDosTimestamp(epochSeconds: number): DosTimestamp {
  const min = Date.UTC(1980, 0, 1) / 1000;
  const max = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;
  const d = new Date(Math.min(max, Math.max(min, Math.floor(epochSeconds))) * 1000);
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
  };
}
