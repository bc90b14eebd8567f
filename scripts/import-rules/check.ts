/**
 * `npm run check:imports`: prints every layer violation, plugin reaching into another plugin's
 * files, and import cycle; exits 1 if any. Its last line counts the plugin-to-plugin imports;
 * `--count` also lists them.
 */
import { fileURLToPath } from "node:url";
import { importGraph } from "./graph.ts";
import { checkLayers, checkPluginImports, countPluginImports, importCycles, pluginToPluginImports } from "./rules.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const edges = importGraph(root);
const layers = checkLayers(edges);
const plugins = checkPluginImports(edges);
const { files, folders } = importCycles(edges);
for (const v of [...layers, ...plugins]) console.log(`${v.edge.from}:${v.edge.line}: imports ${v.edge.to}: ${v.why}`);
for (const c of files) console.log(`file cycle: ${c.join(" -> ")}`);
for (const c of folders) console.log(`folder cycle: ${c.join(" -> ")}`);
if (process.argv.includes("--count"))
  for (const e of pluginToPluginImports(edges)) console.log(`plugin import: ${e.from}:${e.line} -> ${e.to}`);
console.log(
  `${edges.length} imports checked: ${layers.length} layer violations, ${plugins.length} reaches into another plugin, ${files.length} file cycles, ${folders.length} folder cycles`,
);
const count = countPluginImports(edges);
console.log(
  `${count.total} plugin-to-plugin imports (${count.notThroughIndex} not through an index.ts; ${count.compositionTable} of them the composition table plugins/builtin.ts)`,
);
process.exitCode = layers.length + plugins.length + files.length + folders.length > 0 ? 1 : 0;
