/**
 * Little-endian on-disk records described by field tables (offset, size, name), so every
 * binary structure bootmedia writes is declared once and read back through the same table.
 */

export type FieldKind = "u8" | "u16" | "u32" | "u64" | "bytes";

export interface FieldDef<K extends FieldKind = FieldKind> {
  readonly offset: number;
  readonly size: number;
  readonly kind: K;
}

export const u8 = (offset: number): FieldDef<"u8"> => ({ offset, size: 1, kind: "u8" });
export const u16 = (offset: number): FieldDef<"u16"> => ({ offset, size: 2, kind: "u16" });
export const u32 = (offset: number): FieldDef<"u32"> => ({ offset, size: 4, kind: "u32" });
export const u64 = (offset: number): FieldDef<"u64"> => ({ offset, size: 8, kind: "u64" });
export const bytes = (offset: number, size: number): FieldDef<"bytes"> => ({ offset, size, kind: "bytes" });

export type RecordLayout = Record<string, FieldDef>;

type ValueOf<F> = F extends FieldDef<"bytes"> ? Uint8Array | string : number;
export type RecordValues<L extends RecordLayout> = { [K in keyof L]: ValueOf<L[K]> };
type ReadValueOf<F> = F extends FieldDef<"bytes"> ? Buffer : number;
export type RecordRead<L extends RecordLayout> = { [K in keyof L]: ReadValueOf<L[K]> };

/** Writes the given fields of one record at `base`; fields left out keep the buffer's bytes. */
export function writeRecord<L extends RecordLayout>(layout: L, buf: Buffer, base: number, values: Partial<RecordValues<L>>): void {
  for (const name of Object.keys(values) as Array<keyof L & string>) {
    const f = layout[name];
    const v = values[name] as number | Uint8Array | string;
    const at = base + f.offset;
    switch (f.kind) {
      case "u8": buf.writeUInt8(v as number, at); break;
      case "u16": buf.writeUInt16LE(v as number, at); break;
      case "u32": buf.writeUInt32LE(v as number, at); break;
      case "u64": buf.writeBigUInt64LE(BigInt(v as number), at); break;
      case "bytes": {
        const src: Uint8Array = typeof v === "string" ? Buffer.from(v, "latin1") : (v as Uint8Array);
        if (src.length !== f.size) throw new Error(`field ${name}: ${src.length} bytes given, ${f.size} expected`);
        buf.set(src, at);
        break;
      }
    }
  }
}

/** Reads every field of one record at `base` (u64 as a number: our images stay below 2^53). */
export function readRecord<L extends RecordLayout>(layout: L, buf: Buffer, base: number): RecordRead<L> {
  const out: Record<string, number | Buffer> = {};
  for (const [name, f] of Object.entries(layout)) {
    const at = base + f.offset;
    switch (f.kind) {
      case "u8": out[name] = buf.readUInt8(at); break;
      case "u16": out[name] = buf.readUInt16LE(at); break;
      case "u32": out[name] = buf.readUInt32LE(at); break;
      case "u64": out[name] = Number(buf.readBigUInt64LE(at)); break;
      case "bytes": out[name] = buf.subarray(at, at + f.size); break;
    }
  }
  return out as RecordRead<L>;
}
