/**
 * A spec document is parsed with its nesting bounded, then checked in one linear pass before
 * it becomes data: duplicate keys (reported where they are), its node count, and alias
 * expansion (a billion-laughs document would otherwise expand to 10^9 nodes in memory).
 */
import {
  Composer,
  Parser,
  YAMLParseError,
  isAlias,
  isMap,
  isScalar,
  visit,
  type Document,
  type LineCounter,
} from "yaml";
import { diagnostic, type Diagnostic } from "../base/diagnostics.ts";
import { BootmediaError } from "../base/errors.ts";
import "./codes.ts";
import { LIMITS } from "./limits.ts";

/**
 * yaml's parseDocument with nesting bounded before anything recursive sees the text. yaml's
 * composer recurses once per level and runs out of stack near 800 levels (and V8 may then
 * abort the whole process while compiling a regular expression); its lexer and syntax-tree
 * parser keep an explicit stack, so the depth is watched there, one token at a time.
 * Refused: BM1014 at the line and column where the limit is passed. JSON is YAML here.
 */
export function parseBounded(
  text: string,
  file: string,
  opts: { lineCounter?: LineCounter; uniqueKeys?: boolean } = {},
): Document {
  const parser = new DepthBoundParser(file, opts.lineCounter);
  const composer = new Composer({ uniqueKeys: opts.uniqueKeys ?? false });
  let doc: Document | undefined;
  for (const next of composer.compose(parser.parse(text), true, text.length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(
        new YAMLParseError(
          [next.range[0], next.range[1]],
          "MULTIPLE_DOCS",
          "a spec is one YAML document; remove the second `---` and what follows, or split the file",
        ),
      );
      break;
    }
  }
  return doc!; // compose(…, true) always ends with a document, even for empty text
}

const COLLECTIONS = new Set(["block-map", "block-seq", "flow-collection"]);

/** yaml's syntax-tree parser, refusing once more collections than the limit are open. */
class DepthBoundParser extends Parser {
  constructor(
    private readonly file: string,
    private readonly lines?: LineCounter,
  ) {
    super(lines?.addNewLine);
  }

  override *next(source: string) {
    const at = this.offset;
    yield* super.next(source);
    // The stack holds the document, the collections open around this token, and a scalar
    // being read; only collections are levels (counted only when the stack is long).
    if (
      this.stack.length - 1 > LIMITS.specDepth &&
      this.stack.filter((t) => COLLECTIONS.has(t.type)).length > LIMITS.specDepth
    ) {
      const p = this.lines?.linePos(at);
      const path = p ? `${this.file}:${p.line}:${p.col}` : this.file;
      throw new BootmediaError("BM1014", `lists and mappings nest deeper than ${LIMITS.specDepth} levels here`, {
        where: path,
      });
    }
  }
}

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
    throw new BootmediaError("BM1014", `spec ${file} uses more than ${LIMITS.specAliases} YAML aliases`, {
      where: file,
    });
  }
  return out;
}

/** doc.toJS with alias expansion bounded; an expansion attack is BM1014, not a stack trace. */
export function toJsBounded(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: LIMITS.specAliases });
  } catch (e) {
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      throw new BootmediaError("BM1014", `spec ${file}: YAML aliases expand past the limit (${e.message})`, {
        where: file,
      });
    }
    throw e;
  }
}

/** A small YAML or JSON input as plain data, nesting and aliases bounded; a syntax error throws yaml's first. */
export function parseYamlData(text: string, file: string): unknown {
  const doc = parseBounded(text, file);
  if (doc.errors.length > 0) throw doc.errors[0];
  return toJsBounded(doc, file);
}
