/**
 * The one field-table engine for on-disk records (ISO 9660, El Torito, SUSP/RRIP, MBR, GPT,
 * FAT, GRUB, cpio newc): a record is declared once as a named table of fields
 * `{ name: kind(offset[, size]) }` next to a comment citing its spec section, and is
 * encoded and decoded only through here, so no offset appears outside its table.
 *
 * Encoders and decoders are compiled once per table (they run for every directory record
 * of every file); decoding checks the record lies inside the buffer, as readers parse
 * untrusted media.
 */

/** Both-byte-order fields are ECMA-119 §7.2.3 / §7.3.3 (little-endian, then big-endian). */
export type FieldKind =
  | "u8"
  | "u16le"
  | "u16be"
  | "u16both"
  | "u32le"
  | "u32be"
  | "u32both"
  | "u64le"
  | "achars" /* text, space padded (ECMA-119 §7.4 a-characters; FAT names and labels) */
  | "zchars" /* text, zero padded (El Torito ids) */
  | "hex" /* unsigned number as ASCII hex digits, zero padded (cpio newc) */
  | "bytes";

export interface Field<K extends FieldKind = FieldKind> {
  readonly offset: number;
  readonly size: number;
  readonly kind: K;
}

export const u8 = (offset: number): Field<"u8"> => ({ offset, size: 1, kind: "u8" });
export const u16le = (offset: number): Field<"u16le"> => ({ offset, size: 2, kind: "u16le" });
export const u16be = (offset: number): Field<"u16be"> => ({ offset, size: 2, kind: "u16be" });
export const u16both = (offset: number): Field<"u16both"> => ({ offset, size: 4, kind: "u16both" });
export const u32le = (offset: number): Field<"u32le"> => ({ offset, size: 4, kind: "u32le" });
export const u32be = (offset: number): Field<"u32be"> => ({ offset, size: 4, kind: "u32be" });
export const u32both = (offset: number): Field<"u32both"> => ({ offset, size: 8, kind: "u32both" });
export const u64le = (offset: number): Field<"u64le"> => ({ offset, size: 8, kind: "u64le" });
export const achars = (offset: number, size: number): Field<"achars"> => ({ offset, size, kind: "achars" });
export const zchars = (offset: number, size: number): Field<"zchars"> => ({ offset, size, kind: "zchars" });
export const hex = (offset: number, size: number): Field<"hex"> => ({ offset, size, kind: "hex" });
export const bytes = (offset: number, size: number): Field<"bytes"> => ({ offset, size, kind: "bytes" });

export type Fields = Readonly<Record<string, Field>>;

export interface RecordLayout<F extends Fields = Fields> {
  readonly size: number;
  readonly fields: F;
}

type EncodedValue<K extends FieldKind> = K extends "achars" | "zchars"
  ? string
  : K extends "bytes"
    ? Uint8Array | string
    : K extends "u64le"
      ? bigint | number
      : number;
type DecodedValue<K extends FieldKind> = K extends "achars" | "zchars"
  ? string
  : K extends "bytes"
    ? Buffer
    : K extends "u64le"
      ? bigint
      : number;
type KindOf<F> = F extends Field<infer K> ? K : never;

type RecordValues<L extends RecordLayout> = { [N in keyof L["fields"]]?: EncodedValue<KindOf<L["fields"][N]>> };
type DecodedRecord<L extends RecordLayout> = { [N in keyof L["fields"]]: DecodedValue<KindOf<L["fields"][N]>> };

/** Declares a record of `size` bytes, checking that every field stays inside it. */
export function defineRecord<const F extends Fields>(size: number, fields: F): RecordLayout<F> {
  for (const [name, f] of Object.entries(fields)) {
    if (f.offset < 0 || f.offset + f.size > size) throw new Error(`field ${name} exceeds record size ${size}`);
  }
  return { size, fields };
}

/** Thrown when a record would be read outside its buffer: readers turn it into their format's coded error. */
export class RecordBoundsError extends RangeError {
  constructor(
    readonly record: number,
    readonly at: number,
    readonly available: number,
  ) {
    super(`a ${record}-byte record at byte ${at} passes the end of its ${available}-byte buffer`);
    this.name = "RecordBoundsError";
  }
}

type Writer = (buf: Buffer, at: number, v: unknown) => void;
type Reader = (buf: Buffer, at: number) => unknown;

function textWriter(name: string, f: Field, fill: number): Writer {
  const o = f.offset,
    size = f.size;
  return (buf, at, v) => {
    const s = String(v);
    if (s.length > size) throw new RangeError(`value too long for ${size}-byte field ${name}: ${s}`);
    const n = buf.write(s, at + o, size, "latin1");
    if (n < size) buf.fill(fill, at + o + n, at + o + size);
  };
}

function compileWriter(name: string, f: Field): Writer {
  const o = f.offset,
    size = f.size;
  switch (f.kind) {
    case "u8":
      return (buf, at, v) => void buf.writeUInt8(v as number, at + o);
    case "u16le":
      return (buf, at, v) => void buf.writeUInt16LE(v as number, at + o);
    case "u16be":
      return (buf, at, v) => void buf.writeUInt16BE(v as number, at + o);
    case "u16both":
      return (buf, at, v) => {
        buf.writeUInt16LE(v as number, at + o);
        buf.writeUInt16BE(v as number, at + o + 2);
      };
    case "u32le":
      return (buf, at, v) => void buf.writeUInt32LE(v as number, at + o);
    case "u32be":
      return (buf, at, v) => void buf.writeUInt32BE(v as number, at + o);
    case "u32both":
      return (buf, at, v) => {
        buf.writeUInt32LE(v as number, at + o);
        buf.writeUInt32BE(v as number, at + o + 4);
      };
    case "u64le":
      return (buf, at, v) => void buf.writeBigUInt64LE(BigInt(v as bigint | number), at + o);
    case "achars":
      return textWriter(name, f, 0x20);
    case "zchars":
      return textWriter(name, f, 0);
    case "hex": {
      const max = 16 ** size - 1;
      return (buf, at, v) => {
        const n = v as number;
        if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`field ${name} out of range: ${n}`);
        buf.write(n.toString(16).padStart(size, "0"), at + o, size, "latin1");
      };
    }
    case "bytes": {
      const text = textWriter(name, f, 0);
      return (buf, at, v) => {
        if (typeof v === "string") return text(buf, at, v);
        const b = v as Uint8Array;
        if (b.length > size) throw new RangeError(`value too long for ${size}-byte field ${name}`);
        buf.set(b, at + o);
        if (b.length < size) buf.fill(0, at + o + b.length, at + o + size);
      };
    }
  }
}

function compileReader(f: Field): Reader {
  const o = f.offset,
    size = f.size;
  switch (f.kind) {
    case "u8":
      return (buf, at) => buf[at + o];
    case "u16le":
    case "u16both":
      return (buf, at) => buf.readUInt16LE(at + o);
    case "u16be":
      return (buf, at) => buf.readUInt16BE(at + o);
    case "u32le":
    case "u32both":
      return (buf, at) => buf.readUInt32LE(at + o);
    case "u32be":
      return (buf, at) => buf.readUInt32BE(at + o);
    case "u64le":
      return (buf, at) => buf.readBigUInt64LE(at + o);
    case "achars":
      return (buf, at) => buf.toString("latin1", at + o, at + o + size).replace(/ +$/, "");
    case "zchars":
      return (buf, at) => buf.toString("latin1", at + o, at + o + size).replace(/\0+$/, "");
    case "hex":
      return (buf, at) => {
        const s = buf.toString("latin1", at + o, at + o + size);
        return /^[0-9a-fA-F]+$/.test(s) ? parseInt(s, 16) : NaN;
      };
    case "bytes":
      return (buf, at) => buf.subarray(at + o, at + o + size);
  }
}

interface Compiled {
  names: string[];
  writers: Writer[];
  readers: Reader[];
}

/** Each table's names, writers and readers, compiled on first use. */
const compiled = new WeakMap<RecordLayout, Compiled>();

function compiledOf(layout: RecordLayout): Compiled {
  let c = compiled.get(layout);
  if (!c) {
    const fields = Object.entries(layout.fields);
    c = {
      names: fields.map(([n]) => n),
      writers: fields.map(([n, f]) => compileWriter(n, f)),
      readers: fields.map(([, f]) => compileReader(f)),
    };
    compiled.set(layout, c);
  }
  return c;
}

/**
 * Encodes `values` into `buf` at `at` (a fresh zeroed buffer of the record's size by default).
 * Fields left out keep the buffer's bytes; a shorter `bytes` value is zero padded.
 */
export function encodeRecord<L extends RecordLayout>(layout: L, values: RecordValues<L>, buf?: Buffer, at = 0): Buffer {
  const out = buf ?? Buffer.alloc(layout.size);
  const given = values as Record<string, unknown>;
  const { names, writers } = compiledOf(layout);
  let used = 0;
  for (let i = 0; i < names.length; i++) {
    const v = given[names[i]];
    if (v === undefined) continue;
    writers[i](out, at, v);
    used++;
  }
  // A misspelt field name must not vanish silently.
  let count = 0;
  for (const name in given) if (given[name] !== undefined) count++;
  if (used !== count) {
    for (const name of Object.keys(given))
      if (given[name] !== undefined && !(name in layout.fields)) throw new Error(`unknown field ${name}`);
  }
  return out;
}

/** Decodes every field of the record at `at`; throws RecordBoundsError when it passes the buffer's end. */
export function decodeRecord<L extends RecordLayout>(layout: L, buf: Buffer, at = 0): DecodedRecord<L> {
  if (!(at >= 0 && at + layout.size <= buf.length)) throw new RecordBoundsError(layout.size, at, buf.length);
  const { names, readers } = compiledOf(layout);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) out[names[i]] = readers[i](buf, at);
  return out as DecodedRecord<L>;
}
