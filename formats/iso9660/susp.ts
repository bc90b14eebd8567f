/**
 * System Use Sharing Protocol (SUSP 1.12) and Rock Ridge (RRIP 1.10, "RRIP_1991A") entries.
 * Each entry is a field table; `layoutSystemUse` fits them into a directory record and moves
 * the overflow to a continuation area (SUSP §5.1 CE) when the record would pass 255 bytes.
 */
import { defineRecord, encodeRecord, achars, bytes, u32both, u8 } from "../record.ts";
import { encodeDirDate } from "./records.ts";

/** Common 4-byte entry header (SUSP §4.1). */
const HEADER = { signature: achars(0, 2), length: u8(2), version: u8(3) } as const;
export const SUSP_HEADER = defineRecord(4, HEADER);
/** SUSP §5.3 SP: marks SUSP use, first entry of the root's "." record. */
const SP = defineRecord(7, { ...HEADER, checkBE: u8(4), checkEF: u8(5), skip: u8(6) });
/** SUSP §5.1 CE: where the rest of the entries continue. */
export const CE = defineRecord(28, { ...HEADER, block: u32both(4), offset: u32both(12), areaLength: u32both(20) });
/** SUSP §5.5 ER: names the extension (RRIP); identifier, descriptor and source follow at 8. */
const ER = defineRecord(8, { ...HEADER, idLength: u8(4), descLength: u8(5), srcLength: u8(6), extVersion: u8(7) });
/** RRIP 1.09 RR: which RRIP entries are present; some older readers look for it. */
const RR = defineRecord(5, { ...HEADER, flags: u8(4) });
/** RRIP §4.1.1 PX (1.10 form, no inode field). */
export const PX = defineRecord(36, {
  ...HEADER,
  mode: u32both(4),
  links: u32both(12),
  uid: u32both(20),
  gid: u32both(28),
});
/** RRIP §4.1.6 TF: flags then one 7-byte date per flag bit set (modify, access, attributes). */
const TF = defineRecord(26, {
  ...HEADER,
  flags: u8(4),
  modify: bytes(5, 7),
  access: bytes(12, 7),
  attributes: bytes(19, 7),
});
/** RRIP §4.1.4 NM: name bytes follow at 5; flag CONTINUE when the name goes on in the next NM. */
export const NM = defineRecord(5, { ...HEADER, flags: u8(4) });
const NM_CONTINUE = 0x01;
const TF_MODIFY_ACCESS_ATTRIBUTES = 0x0e;
const RR_FLAGS_PX_NM_TF = 0x01 | 0x08 | 0x80;

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;

const ER_ID = "RRIP_1991A";
const ER_DESC = "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
const ER_SRC =
  "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";

export function encodeSp(): Buffer {
  return encodeRecord(SP, { signature: "SP", length: SP.size, version: 1, checkBE: 0xbe, checkEF: 0xef, skip: 0 });
}

export function encodeEr(): Buffer {
  const text = Buffer.from(ER_ID + ER_DESC + ER_SRC, "latin1");
  const head = encodeRecord(ER, {
    signature: "ER",
    length: ER.size + text.length,
    version: 1,
    idLength: ER_ID.length,
    descLength: ER_DESC.length,
    srcLength: ER_SRC.length,
    extVersion: 1,
  });
  return Buffer.concat([head, text]);
}

export function encodeRr(): Buffer {
  return encodeRecord(RR, { signature: "RR", length: RR.size, version: 1, flags: RR_FLAGS_PX_NM_TF });
}

export function encodePx(mode: number, links: number): Buffer {
  return encodeRecord(PX, { signature: "PX", length: PX.size, version: 1, mode, links, uid: 0, gid: 0 });
}

export function encodeTf(epochSeconds: number): Buffer {
  const d = encodeDirDate(epochSeconds);
  return encodeRecord(TF, {
    signature: "TF",
    length: TF.size,
    version: 1,
    flags: TF_MODIFY_ACCESS_ATTRIBUTES,
    modify: d,
    access: d,
    attributes: d,
  });
}

/** NM entries for a name; split in pieces of at most 250 bytes, all but the last flagged CONTINUE. */
export function encodeNm(name: string): Buffer[] {
  const length = Buffer.byteLength(name, "utf8");
  if (length <= 250) {
    // The usual case, written directly: one entry per record of every file in the tree.
    const nm = Buffer.allocUnsafe(NM.size + length);
    encodeRecord(NM, { signature: "NM", length: nm.length, version: 1, flags: 0 }, nm);
    nm.write(name, NM.size, "utf8");
    return [nm];
  }
  const bytes = Buffer.from(name, "utf8");
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length || out.length === 0; at += 250) {
    const part = bytes.subarray(at, at + 250);
    const last = at + 250 >= bytes.length;
    out.push(
      Buffer.concat([
        encodeRecord(NM, { signature: "NM", length: NM.size + part.length, version: 1, flags: last ? 0 : NM_CONTINUE }),
        part,
      ]),
    );
  }
  return out;
}

function encodeCe(block: number, offset: number, length: number): Buffer {
  return encodeRecord(CE, { signature: "CE", length: CE.size, version: 1, block, offset, areaLength: length });
}

/** How one record's entries are split between the record itself and a continuation area. */
export interface SystemUse {
  inline: Buffer[];
  /** Entries moved to a continuation area; the CE entry is appended to `inline` once placed. */
  continued: Buffer[];
  contLength: number;
  /** Bytes the system use takes in the record: inline entries, CE, pad to even (ECMA-119 §9.1.13). */
  inlineLength: number;
  /** Placed later by the planner. */
  contLba?: number;
  contOffset?: number;
}

const sum = (bs: Buffer[]) => bs.reduce((n, b) => n + b.length, 0);
const even = (n: number) => n + (n & 1);
const NONE: Buffer[] = [];

/** Splits entries so the inline part fits `room` bytes, reserving room for a CE entry when it does not all fit. */
export function layoutSystemUse(entries: Buffer[], room: number): SystemUse {
  const total = sum(entries);
  if (total <= room) return { inline: entries, continued: NONE, contLength: 0, inlineLength: even(total) };
  const inline: Buffer[] = [];
  let used = CE.size;
  let i = 0;
  while (i < entries.length && used + entries[i].length <= room) {
    used += entries[i].length;
    inline.push(entries[i++]);
  }
  const continued = entries.slice(i);
  return { inline, continued, contLength: sum(continued), inlineLength: even(used) };
}

/** Writes the inline bytes at `at` of `out`, CE last (continuation must already be placed); returns the end. */
export function writeInline(su: SystemUse, out: Buffer, at: number): number {
  for (const b of su.inline) at += b.copy(out, at);
  if (su.continued.length > 0) at += encodeCe(su.contLba!, su.contOffset!, su.contLength).copy(out, at);
  return at; // the pad byte of an odd length (§9.1.13) is already zero in a zeroed directory buffer
}
