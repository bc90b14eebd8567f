/**
 * A minimal ASN.1 BER/DER reader (ITU-T X.690 §8) for PKCS#12 files: tag, length,
 * children. Definite and indefinite lengths; constructed OCTET STRINGs are joined
 * (Windows exports use both). Only what reading a .pfx needs; no writer.
 */
export const TAG = { INTEGER: 0x02, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30, SET: 0x31 } as const;
/** Context-specific [n] tags: 0x80 | n (primitive) or 0xa0 | n (constructed). */
export const contextTag = (n: number, constructed: boolean) => (constructed ? 0xa0 : 0x80) | n;

export interface DerNode {
  /** The identifier octet (X.690 §8.1.2; low-tag-number form only). */
  tag: number;
  constructed: boolean;
  /** Content octets (for indefinite lengths: up to, not including, the end-of-contents). */
  content: Buffer;
  /** The whole encoding, identifier to end. */
  raw: Buffer;
  children: DerNode[];
}

export class DerError extends Error {}

export function readDer(buf: Buffer, at = 0): DerNode {
  const node = readNode(buf, at);
  return node.node;
}

function readNode(buf: Buffer, start: number): { node: DerNode; end: number } {
  if (start + 2 > buf.length) throw new DerError("truncated ASN.1 value");
  const tag = buf[start]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("high tag numbers are not used in PKCS#12");
  const constructed = (tag & 0x20) !== 0;
  let at = start + 1;
  const first = buf[at++]!;
  if (first === 0x80) {
    // X.690 §8.1.3.6: indefinite length, children until 00 00.
    if (!constructed) throw new DerError("indefinite length on a primitive value");
    const children: DerNode[] = [];
    while (!(buf[at] === 0 && buf[at + 1] === 0)) {
      const c = readNode(buf, at);
      children.push(c.node);
      at = c.end;
      if (at + 2 > buf.length) throw new DerError("unterminated indefinite length");
    }
    return { node: { tag, constructed, content: buf.subarray(start + 2, at), raw: buf.subarray(start, at + 2), children }, end: at + 2 };
  }
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n > 4) throw new DerError("ASN.1 length too large");
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[at++]!;
  }
  const end = at + length;
  if (end > buf.length) throw new DerError("ASN.1 length past the end of the data");
  const content = buf.subarray(at, end);
  const children: DerNode[] = [];
  if (constructed) for (let p = at; p < end; ) {
    const c = readNode(buf, p);
    children.push(c.node);
    p = c.end;
  }
  return { node: { tag, constructed, content, raw: buf.subarray(start, end), children }, end };
}

/** The n-th child, checked to carry `tag` (undefined when absent and `optional`). */
export function child(node: DerNode, n: number, tag: number): DerNode {
  const c = node.children[n];
  if (!c || c.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)} at child ${n}, found ${c ? `0x${c.tag.toString(16)}` : "nothing"}`);
  return c;
}

/** OCTET STRING bytes, joining the segments of a constructed one (X.690 §8.7.3). */
export function octets(node: DerNode): Buffer {
  return node.constructed ? Buffer.concat(node.children.map(octets)) : node.content;
}

export function oid(node: DerNode): string {
  if (node.tag !== TAG.OID) throw new DerError("expected an OBJECT IDENTIFIER");
  const b = node.content;
  const parts: number[] = [Math.min(2, Math.floor(b[0]! / 40)), b[0]! - 40 * Math.min(2, Math.floor(b[0]! / 40))];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

export function integer(node: DerNode): number {
  if (node.tag !== TAG.INTEGER || node.content.length > 6) throw new DerError("expected a small INTEGER");
  return node.content.reduce((n, b) => n * 256 + b, 0);
}
