/**
 * Name mapping for the three views of one tree: ISO 9660 level 3 identifiers (d-characters,
 * ECMA-119 §7.5/§7.6), Joliet UCS-2 names (Joliet spec §3), and Rock Ridge NM (the real name).
 * ISO names are mangled to stay unique because RR and Joliet carry the real names; a Joliet
 * collision is an error because Windows shows Joliet names to users.
 */
import { BootmediaError } from "../../base/errors.ts";
import "./codes.ts";

/** ECMA-119 §7.5.1: file name + extension at most 30 characters at levels 2 and 3. */
const ISO_FILE_CHARS = 30;
/** ECMA-119 §7.6.3: directory identifiers at most 31 characters. */
const ISO_DIR_CHARS = 31;
const ISO_EXT_CHARS = 8;
/** Joliet spec §3.3: identifiers at most 64 UCS-2 characters. */
const JOLIET_MAX_CHARS = 64;
/** RRIP NM: POSIX NAME_MAX. */
export const RR_MAX_BYTES = 255;

/** Validates a primary volume id: d-characters only (§7.4.1), 1 to 32 of them (§8.4.6). */
export function validateVolumeId(id: string): void {
  if (!/^[A-Z0-9_]{1,32}$/.test(id)) {
    throw new BootmediaError("BM3101", `volume id ${JSON.stringify(id)} is not 1-32 characters of A-Z, 0-9, _`);
  }
}

function toDChars(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
}

/** Maps a name to an ISO 9660 level 3 identifier; `taken` holds ids already used in the folder. */
export function mapIsoName(name: string, isDir: boolean, taken: Set<string>): string {
  let base: string;
  let ext = "";
  if (isDir) {
    base = toDChars(name).slice(0, ISO_DIR_CHARS);
  } else {
    const dot = name.lastIndexOf(".");
    base = toDChars(dot > 0 ? name.slice(0, dot) : name);
    ext = dot > 0 ? toDChars(name.slice(dot + 1)).slice(0, ISO_EXT_CHARS) : "";
    base = base.slice(0, ISO_FILE_CHARS - ext.length);
  }
  if (base === "") base = "_";
  const limit = isDir ? ISO_DIR_CHARS : ISO_FILE_CHARS - ext.length;
  const compose = (b: string) => (isDir ? b : `${b}.${ext};1`);
  let id = compose(base);
  // Deterministic mangling: callers visit names in sorted order, so the same tree always gets the same suffixes.
  for (let n = 1; taken.has(id); n++) {
    const suffix = `_${n}`;
    id = compose(base.slice(0, limit - suffix.length) + suffix);
  }
  taken.add(id);
  return id;
}

/** Maps a name to its Joliet form: BMP only, no * / : ; ? \ or controls, at most 64 characters. */
/** A name Joliet takes as it is: no character to replace, not too long. */
const JOLIET_AS_IS = /^[^\u0000-\u001f*/:;?\\\ud800-\udfff]{1,64}$/;

export function mapJolietName(name: string): string {
  if (JOLIET_AS_IS.test(name)) return name;
  let out = "";
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    out += cp > 0xffff || cp < 0x20 || "*/:;?\\".includes(ch) ? "_" : ch;
  }
  return out.slice(0, JOLIET_MAX_CHARS);
}

/** UCS-2 big-endian bytes of a Joliet name (Joliet spec §3.2). */
export function encodeUcs2(s: string): Buffer {
  const b = Buffer.from(s, "utf16le");
  b.swap16();
  return b;
}

export function decodeUcs2(b: Buffer): string {
  const c = Buffer.from(b);
  c.swap16();
  return c.toString("utf16le");
}

/** A Joliet descriptor text field: UCS-2 BE, padded with UCS-2 spaces. */
export function padUcs2(s: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i + 1 < size; i += 2) out.writeUInt16BE(0x20, i);
  encodeUcs2(s.slice(0, size >> 1)).copy(out);
  return out;
}

/** A d/a-character descriptor text field, padded with spaces. */
export function padAscii(s: string, size: number): Buffer {
  const out = Buffer.alloc(size, 0x20);
  Buffer.from(s.slice(0, size), "latin1").copy(out);
  return out;
}

/** An identifier split for §9.3 ordering: name, extension, version. */
type IsoSortKey = readonly [name: string, ext: string, version: number];

export function isoSortKey(id: string): IsoSortKey {
  const semi = id.indexOf(";");
  const body = semi < 0 ? id : id.slice(0, semi);
  const dot = body.indexOf(".");
  return dot < 0 ? [body, "", 0] : [body.slice(0, dot), body.slice(dot + 1), semi < 0 ? 0 : Number(id.slice(semi + 1))];
}

/**
 * ECMA-119 §9.3: by name, then extension, each padded with spaces; then version descending.
 * Padding with spaces is plain string order here: every d-character sorts above the space.
 */
export function compareIsoKeys(a: IsoSortKey, b: IsoSortKey): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return b[2] - a[2];
}
