/**
 * Test support: where product code runs external programs, read from the source. Calls of
 * core/program.ts are found by the type checker (whatever they are imported or renamed as),
 * and each call's program is the set of string literals its argument's type allows — so a
 * program passed through a variable is still known, and a wide `string` cannot pass.
 */
import ts from "typescript";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Modules that start processes; product code reaches them only through core/program.ts. */
const SPAWN_MODULES = ["execa", "child_process", "node:child_process", "cross-spawn", "node-pty"] as const;

interface SpawnImport {
  file: string;
  line: number;
  module: string;
}

export interface ProgramSite {
  file: string;
  line: number;
  /** runProgram, startProgram or programName. */
  fn: string;
  /** The programs the argument's type allows; empty when it is not a union of string literals. */
  programs: string[];
  /** The argument's type as the checker prints it (for messages). */
  type: string;
}

/** Imports (static, re-exports, dynamic, require) of a process-starting module in `files`; type-only ones aside. */
export function spawnImports(root: string, files: readonly string[]): SpawnImport[] {
  const out: SpawnImport[] = [];
  for (const file of files) {
    const sf = ts.createSourceFile(file, readFileSync(join(root, file), "utf8"), ts.ScriptTarget.ES2022, true);
    const note = (spec: ts.Node | undefined, at: ts.Node) => {
      if (spec && ts.isStringLiteralLike(spec) && (SPAWN_MODULES as readonly string[]).includes(spec.text)) {
        out.push({ file, line: sf.getLineAndCharacterOfPosition(at.getStart(sf)).line + 1, module: spec.text });
      }
    };
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) && !isTypeOnly(node)) || (ts.isExportDeclaration(node) && !node.isTypeOnly))
        note(node.moduleSpecifier, node);
      else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
        note(node.moduleReference.expression, node);
      else if (
        ts.isCallExpression(node) &&
        (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
          (ts.isIdentifier(node.expression) && node.expression.text === "require"))
      )
        note(node.arguments[0], node);
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** Types alone start nothing: `import type { … }`, or every name imported as a type. */
function isTypeOnly(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const names = clause.namedBindings;
  return !clause.name && names !== undefined && ts.isNamedImports(names) && names.elements.every((e) => e.isTypeOnly);
}

/** Every call of core/program.ts's functions in `files`, with the programs each may run. */
export function programSites(root: string, files: readonly string[]): ProgramSite[] {
  const helper = join(root, "core/program.ts");
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  if (!config) throw new Error("tsconfig.json unreadable");
  const program = ts.createProgram(
    files.map((f) => join(root, f)),
    { ...config.options, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const out: ProgramSite[] = [];
  for (const file of files) {
    const sf = program.getSourceFile(join(root, file))!;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const decl = checker.getResolvedSignature(node)?.declaration;
        if (decl && decl.getSourceFile().fileName === helper && ts.isFunctionDeclaration(decl) && decl.name) {
          const arg = node.arguments[0];
          const type = arg ? checker.getTypeAtLocation(arg) : undefined;
          const parts = type ? (type.isUnion() ? type.types : [type]) : [];
          const literals = parts.every((t) => t.isStringLiteral())
            ? parts.map((t) => (t as ts.StringLiteralType).value)
            : [];
          out.push({
            file,
            line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
            fn: decl.name.text,
            programs: literals,
            type: type ? checker.typeToString(type) : "(none)",
          });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** Files reachable from `entries` through imports (static, type-only and dynamic). */
export function reachableFrom(
  edges: ReadonlyArray<{ from: string; to: string }>,
  entries: readonly string[],
): Set<string> {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const seen = new Set(entries);
  const queue = [...entries];
  while (queue.length > 0) {
    for (const to of next.get(queue.pop()!) ?? []) {
      if (!seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return seen;
}
