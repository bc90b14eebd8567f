/**
 * A spec document is checked in one linear pass before it becomes data: duplicate keys
 * (reported where they are), its node count, and alias expansion (a billion-laughs
 * document would otherwise expand to 10^9 nodes in memory).
 */
import { isAlias, isMap, isScalar, visit, type Document } from "yaml";
import { diagnostic, type Diagnostic } from "../base/diagnostics.ts";
import { BootmediaError } from "../base/errors.ts";
import "./codes.ts";
import { LIMITS } from "./limits.ts";

export function checkSpecDocument(doc: Document, where: (offset: number) => string, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  let nodes = 0;
  let aliases = 0;
  visit(doc, {
    Node(_key, node) {
      nodes++;
      if (isAlias(node)) aliases++;
      if (nodes > LIMITS.specNodes) return visit.BREAK;
      if (isMap(node)) {
        const seen = new Set<unknown>();
        for (const pair of node.items) {
          const k = isScalar(pair.key) ? pair.key.value : pair.key;
          if (seen.has(k)) {
            const at = isScalar(pair.key) && pair.key.range ? where(pair.key.range[0]) : `${file}`;
            out.push(diagnostic("BM1002", `map keys must be unique: "${String(k)}" appears twice`, { path: at }));
          }
          seen.add(k);
        }
      }
      return undefined;
    },
  });
  if (nodes > LIMITS.specNodes) {
    throw new BootmediaError("BM1014", `spec ${file} holds more than ${LIMITS.specNodes} YAML nodes`, { where: file });
  }
  if (aliases > LIMITS.specAliases) {
    throw new BootmediaError("BM1014", `spec ${file} uses more than ${LIMITS.specAliases} YAML aliases`, { where: file });
  }
  return out;
}

/** doc.toJS with alias expansion bounded; an expansion attack is BM1014, not a stack trace. */
export function toJsBounded(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: LIMITS.specAliases });
  } catch (e) {
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      throw new BootmediaError("BM1014", `spec ${file}: YAML aliases expand past the limit (${e.message})`, { where: file });
    }
    throw e;
  }
}
