/**
 * The layers of the source tree, lowest first: each may import its own layer and those
 * below, never above. Test support (testing/ folders, tests, benches) may also import the
 * repository-wide test support, fixtures and scripts; product files never do.
 */
import { cycles, type ImportEdge } from "./graph.ts";

/**
 * Rank of each top-level folder; `native` sits with formats (the writers use it). `backends`
 * holds what commands run besides the pipeline (the boot-image builder, library admin, media
 * diff and check): above the plugins whose files they read, below the testbed.
 */
export const LAYERS = {
  base: 0,
  native: 1,
  formats: 1,
  core: 2,
  plugins: 3,
  backends: 4,
  testbed: 5,
  api: 6,
  cli: 7,
} as const;
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
      if (!isTestSupport(edge.from) && (SUPPORT as readonly string[]).includes(top))
        out.push({ edge, why: `product code of ${from}/ imports ${top}/ (test support or dev scripts)` });
      continue;
    }
    if (LAYERS[to] > LAYERS[from])
      out.push({ edge, why: `${from}/ may not import ${to}/ (layers: ${Object.keys(LAYERS).join(" <- ")})` });
    else if (!isTestSupport(edge.from) && isTestSupport(edge.to))
      out.push({ edge, why: "product code imports test support" });
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

/** The plugin folder a file belongs to ("plugins/<name>/…"), or undefined (plugins/builtin.ts, other layers). */
const pluginOf = (file: string): string | undefined => {
  const parts = file.split("/");
  return parts[0] === "plugins" && parts.length > 2 ? parts[1] : undefined;
};
const isPluginIndex = (file: string) => /^plugins\/[^/]+\/index\.ts$/.test(file);

/** Product imports from plugins/ (a plugin's files, or the composition table plugins/builtin.ts) into another plugin's folder. */
export function pluginToPluginImports(edges: ImportEdge[]): ImportEdge[] {
  return edges.filter((e) => {
    if (!e.from.startsWith("plugins/") || isTestSupport(e.from)) return false;
    const to = pluginOf(e.to);
    return to !== undefined && to !== pluginOf(e.from);
  });
}

/**
 * Plugins meet through core, not each other's files: a plugin's product file (or the
 * composition table) reaches another plugin only through its index.ts — its declaration and
 * what it offers others (hooks, a small API). Tests and test support may reach further.
 */
export function checkPluginImports(edges: ImportEdge[]): Violation[] {
  return pluginToPluginImports(edges)
    .filter((e) => !isPluginIndex(e.to))
    .map((edge) => ({
      edge,
      why: `a plugin reaches plugins/${pluginOf(edge.to)}/ only through its index.ts (or through core)`,
    }));
}

/** How many plugin-to-plugin imports there are, how many not through an index.ts, how many from the composition table. */
export function countPluginImports(edges: ImportEdge[]): {
  total: number;
  notThroughIndex: number;
  compositionTable: number;
} {
  const all = pluginToPluginImports(edges);
  return {
    total: all.length,
    notThroughIndex: all.filter((e) => !isPluginIndex(e.to)).length,
    compositionTable: all.filter((e) => pluginOf(e.from) === undefined).length,
  };
}
