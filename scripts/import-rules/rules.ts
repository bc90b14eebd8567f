/**
 * The layers of the source tree, lowest first: each may import its own layer and those
 * below, never above. Test support (testing/ folders, tests, benches) may also import the
 * repository-wide test support, fixtures and scripts; product files never do.
 */
import { cycles, type ImportEdge } from "./graph.ts";

/** Rank of each top-level folder; `native` sits with formats (the writers use it). */
export const LAYERS = { base: 0, native: 1, formats: 1, core: 2, plugins: 3, testbed: 4, api: 5, cli: 6 } as const;
export type Layer = keyof typeof LAYERS;

/** Folders outside the product: test support, the reference boot-image recipe, dev scripts. */
const SUPPORT = ["testing", "fixtures", "scripts"] as const;

export const layerOf = (file: string): Layer | undefined => {
  const top = file.split("/")[0]!;
  return top in LAYERS ? (top as Layer) : undefined;
};

/** Tests, benches, soaks and a testing/ folder's helpers: not shipped, may use test support. */
export const isTestSupport = (file: string) => /\.test\.ts$/.test(file) || /(^|\/)(testing|bench)\//.test(file);

export interface Violation {
  edge: ImportEdge;
  why: string;
}

export function checkLayers(edges: ImportEdge[]): Violation[] {
  const out: Violation[] = [];
  for (const edge of edges) {
    const from = layerOf(edge.from);
    if (from === undefined) continue; // support folders may import anything
    const to = layerOf(edge.to);
    if (to === undefined) {
      const top = edge.to.split("/")[0]!;
      if (!isTestSupport(edge.from) && (SUPPORT as readonly string[]).includes(top)) out.push({ edge, why: `product code of ${from}/ imports ${top}/ (test support or dev scripts)` });
      continue;
    }
    if (LAYERS[to] > LAYERS[from]) out.push({ edge, why: `${from}/ may not import ${to}/ (layers: ${Object.keys(LAYERS).join(" <- ")})` });
    else if (!isTestSupport(edge.from) && isTestSupport(edge.to)) out.push({ edge, why: "product code imports test support" });
  }
  return out;
}

/**
 * File-level import cycles (every import counts, type-only and dynamic too) and folder-level
 * cycles among product files (a folder's tests and its testing/ folder import each other by
 * design; they are not shipped).
 */
export function importCycles(edges: ImportEdge[]): { files: string[][]; folders: string[][] } {
  const dir = (f: string) => f.slice(0, f.lastIndexOf("/")) || ".";
  const files = cycles(edges.map((e) => [e.from, e.to]));
  const product = edges.filter((e) => !isTestSupport(e.from) && !isTestSupport(e.to));
  const folders = cycles(product.filter((e) => dir(e.from) !== dir(e.to)).map((e) => [dir(e.from), dir(e.to)]));
  return { files, folders };
}
