/**
 * Field tables for on-disk records: every binary structure this writer emits or reads is
 * declared once as { name: { offset, size, type } } and encoded/decoded through here, so
 * no offset appears outside its table.
 */

/** Both-byte-order fields are ECMA-119 §7.2.3 / §7.3.3 (little-endian then big-endian). */
export type FieldType =
  | "u8" | "u16le" | "u16be" | "u16both" | "u32le" | "u32be" | "u32both" | "u64le"
  | "achars" /* ASCII, space padded (ECMA-119 §7.4) */
  | "zchars" /* ASCII, zero padded (El Torito ids) */
  | "bytes";

export interface Field {
  readonly offset: number;
  readonly size: number;
  readonly type: FieldType;
}

export interface Layout {
  readonly size: number;
  readonly fields: Readonly<Record<string, Field>>;
}

export type FieldValue = number | bigint | string | Uint8Array;
export type Values<L extends Layout> = Partial<Record<keyof L["fields"], FieldValue>>;
type DecodedField<F extends Field> = F["type"] extends "achars" | "zchars" ? string
  : F["type"] extends "bytes" ? Buffer : F["type"] extends "u64le" ? bigint : number;
export type Decoded<L extends Layout> = { [K in keyof L["fields"]]: DecodedField<L["fields"][K]> };

/** Declares a record layout, checking that fields stay inside the record. */
export function defineLayout<const F extends Record<string, Field>>(size: number, fields: F): { size: number; fields: F } {
  for (const [name, f] of Object.entries(fields)) {
    if (f.offset + f.size > size) throw new Error(`field ${name} exceeds record size ${size}`);
  }
  return { size, fields };
}

type FieldWriter = (buf: Buffer, at: number, v: FieldValue) => void;

/** A writer for one field, made once per layout: encoding is per record of every file. */
function fieldWriter(name: string, f: Field): FieldWriter {
  const o = f.offset;
  switch (f.type) {
    case "u8": return (buf, at, v) => void buf.writeUInt8(Number(v), at + o);
    case "u16le": return (buf, at, v) => void buf.writeUInt16LE(Number(v), at + o);
    case "u16be": return (buf, at, v) => void buf.writeUInt16BE(Number(v), at + o);
    case "u16both": return (buf, at, v) => { buf.writeUInt16LE(Number(v), at + o); buf.writeUInt16BE(Number(v), at + o + 2); };
    case "u32le": return (buf, at, v) => void buf.writeUInt32LE(Number(v), at + o);
    case "u32be": return (buf, at, v) => void buf.writeUInt32BE(Number(v), at + o);
    case "u32both": return (buf, at, v) => { buf.writeUInt32LE(Number(v), at + o); buf.writeUInt32BE(Number(v), at + o + 4); };
    case "u64le": return (buf, at, v) => void buf.writeBigUInt64LE(BigInt(v as bigint | number), at + o);
    case "achars":
    case "zchars": {
      const fill = f.type === "achars" ? 0x20 : 0;
      return (buf, at, v) => {
        const s = Buffer.from(String(v), "latin1");
        if (s.length > f.size) throw new Error(`value too long for ${f.size}-byte field ${name}: ${String(v)}`);
        buf.fill(fill, at + o, at + o + f.size);
        s.copy(buf, at + o);
      };
    }
    case "bytes":
      return (buf, at, v) => {
        const b = v as Uint8Array;
        if (b.length > f.size) throw new Error(`value too long for ${f.size}-byte field ${name}`);
        if (b.length < f.size) buf.fill(0, at + o + b.length, at + o + f.size);
        buf.set(b, at + o);
      };
  }
}

/** Each layout's field names and writers, built once. */
const encoders = new WeakMap<Layout, { names: string[]; writers: FieldWriter[] }>();

function encoderOf(layout: Layout): { names: string[]; writers: FieldWriter[] } {
  let e = encoders.get(layout);
  if (!e) {
    const fields = Object.entries(layout.fields);
    encoders.set(layout, (e = { names: fields.map(([n]) => n), writers: fields.map(([n, f]) => fieldWriter(n, f)) }));
  }
  return e;
}

/** Encodes `values` into `buf` at `at` (a fresh zeroed buffer of the layout's size by default). */
export function encodeRecord<L extends Layout>(layout: L, values: Values<L>, buf?: Buffer, at = 0): Buffer {
  const out = buf ?? Buffer.alloc(layout.size);
  const given = values as Record<string, FieldValue | undefined>;
  const { names, writers } = encoderOf(layout);
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
    for (const name of Object.keys(values)) if (given[name] !== undefined && !layout.fields[name]) throw new Error(`unknown field ${name}`);
  }
  return out;
}

/** Decodes every field of a record at `at`. */
export function decodeRecord<L extends Layout>(layout: L, buf: Buffer, at = 0): Decoded<L> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(layout.fields)) {
    const o = at + f.offset;
    switch (f.type) {
      case "u8": out[name] = buf.readUInt8(o); break;
      case "u16le": case "u16both": out[name] = buf.readUInt16LE(o); break;
      case "u16be": out[name] = buf.readUInt16BE(o); break;
      case "u32le": case "u32both": out[name] = buf.readUInt32LE(o); break;
      case "u32be": out[name] = buf.readUInt32BE(o); break;
      case "u64le": out[name] = buf.readBigUInt64LE(o); break;
      case "achars": out[name] = buf.toString("latin1", o, o + f.size).replace(/ +$/, ""); break;
      case "zchars": out[name] = buf.toString("latin1", o, o + f.size).replace(/\0+$/, ""); break;
      case "bytes": out[name] = buf.subarray(o, o + f.size); break;
    }
  }
  return out as Decoded<L>;
}
