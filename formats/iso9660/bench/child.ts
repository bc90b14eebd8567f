/** Child process of bench.ts: writes one ISO of a folder and reports time and peak RSS as JSON. */
import { setFlagsFromString } from "node:v8";
import { treeFromDir } from "../../../base/dir-tree.ts";
import { writeIso } from "../write.ts";

// As bin/bootmedia.js does: keep V8's young generation at its initial size.
setFlagsFromString("--semi-space-growth-factor=1");
const [root, outPath] = process.argv.slice(2);
// Listing the folder counts, as it does for xorriso and for cat (find | xargs cat).
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const entries = (await treeFromDir(root)).filter((e) => !e.path.startsWith("."));
const res = await writeIso(entries, { volumeId: "BENCH", sourceDateEpoch: 0 }, outPath);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
// CPU time (user + system) is reported too: on a shared machine it varies far less than wall time.
console.log(
  JSON.stringify({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    bytes: res.bytes,
    maxRssKiB: process.resourceUsage().maxRSS,
  }),
);
