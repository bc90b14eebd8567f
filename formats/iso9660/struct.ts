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

function writeField(buf: Buffer, at: number, f: Field, v: FieldValue): void {
  const o = at + f.offset;
  switch (f.type) {
    case "u8": buf.writeUInt8(Number(v), o); return;
    case "u16le": buf.writeUInt16LE(Number(v), o); return;
    case "u16be": buf.writeUInt16BE(Number(v), o); return;
    case "u16both": buf.writeUInt16LE(Number(v), o); buf.writeUInt16BE(Number(v), o + 2); return;
    case "u32le": buf.writeUInt32LE(Number(v), o); return;
    case "u32be": buf.writeUInt32BE(Number(v), o); return;
    case "u32both": buf.writeUInt32LE(Number(v), o); buf.writeUInt32BE(Number(v), o + 4); return;
    case "u64le": buf.writeBigUInt64LE(BigInt(v as bigint | number), o); return;
    case "achars":
    case "zchars": {
      const s = Buffer.from(String(v), "latin1");
      if (s.length > f.size) throw new Error(`value too long for ${f.size}-byte field: ${String(v)}`);
      buf.fill(f.type === "achars" ? 0x20 : 0, o, o + f.size);
      s.copy(buf, o);
      return;
    }
    case "bytes": {
      const b = v as Uint8Array;
      if (b.length > f.size) throw new Error(`value too long for ${f.size}-byte field`);
      buf.fill(0, o, o + f.size);
      buf.set(b, o);
      return;
    }
  }
}

/** Each layout's fields as a list, built once: encoding walks it instead of Object.entries per record. */
const fieldLists = new WeakMap<Layout, [string, Field][]>();

function listFields(layout: Layout): [string, Field][] {
  let list = fieldLists.get(layout);
  if (!list) fieldLists.set(layout, (list = Object.entries(layout.fields)));
  return list;
}

/** Encodes `values` into `buf` at `at` (a fresh zeroed buffer of the layout's size by default). */
export function encodeRecord<L extends Layout>(layout: L, values: Values<L>, buf?: Buffer, at = 0): Buffer {
  const out = buf ?? Buffer.alloc(layout.size);
  const given = values as Record<string, FieldValue | undefined>;
  let used = 0;
  for (const [name, f] of listFields(layout)) {
    const v = given[name];
    if (v === undefined) continue;
    writeField(out, at, f, v);
    used++;
  }
  // Same guard as before: a misspelt field name must not vanish silently.
  if (used !== Object.keys(values).length) {
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
