/** `npm run check:imports`: prints every layer violation and import cycle; exits 1 if any. */
import { fileURLToPath } from "node:url";
import { importGraph } from "./graph.ts";
import { checkLayers, importCycles } from "./rules.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const edges = importGraph(root);
const layers = checkLayers(edges);
const { files, folders } = importCycles(edges);
for (const v of layers) console.log(`${v.edge.from}:${v.edge.line}: imports ${v.edge.to}: ${v.why}`);
for (const c of files) console.log(`file cycle: ${c.join(" -> ")}`);
for (const c of folders) console.log(`folder cycle: ${c.join(" -> ")}`);
console.log(`${edges.length} imports checked: ${layers.length} layer violations, ${files.length} file cycles, ${folders.length} folder cycles`);
process.exitCode = layers.length + files.length + folders.length > 0 ? 1 : 0;
