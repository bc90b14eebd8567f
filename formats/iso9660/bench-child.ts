/** Child process of bench.ts: writes one ISO of a folder and reports time and peak RSS as JSON. */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { TreeEntry } from "../tree.ts";
import { writeIso } from "./write.ts";

async function collectEntries(root: string, rel = ""): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  for (const d of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push({ type: "dir", path: p }, ...(await collectEntries(root, p)));
    else out.push({ type: "file", path: p, size: (await stat(join(root, p))).size, source: { kind: "file", path: join(root, p) } });
  }
  return out;
}

const [root, outPath] = process.argv.slice(2);
const entries = await collectEntries(root);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const res = await writeIso(entries, { volumeId: "BENCH", sourceDateEpoch: 0 }, outPath);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
// CPU time (user + system) is reported too: on a shared machine it varies far less than wall time.
console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, bytes: res.bytes, maxRssKiB: process.resourceUsage().maxRSS }));
