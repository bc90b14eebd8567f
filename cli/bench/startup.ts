/**
 * Start-up benchmark, as users run the CLI: `bootmedia --help`, `bootmedia --version` and
 * `bootmedia plan fixtures/specs/sample-dir.yaml`, each a whole process of the compiled CLI,
 * in alternating rounds with `node -e 0` (the floor: Node's own start). Printed per command:
 * median wall time, the paired ratio to `node -e 0` of the same round (median, min, max),
 * the time above it, peak RSS, and the targets. The machine is shared: compare ratios, and
 * read the load average printed beside them.
 * Run: npm run build && npm run bench:startup [-- --rounds 11]
 */
import {
  bin,
  loadAverage,
  median,
  mib,
  rotation,
  roundsArg,
  runProcess,
  sec,
  spread,
  type ProcessRun,
} from "../../testing/process-bench.ts";

const ROUNDS = roundsArg(11);
const BIN = bin();
const commands: Record<string, { args: string[]; targetS?: number; targetMiB?: number }> = {
  "node -e 0": { args: ["-e", "0"] },
  "bootmedia --help": { args: [BIN, "--help"], targetS: 0.25, targetMiB: 70 },
  "bootmedia --version": { args: [BIN, "--version"], targetS: 0.25, targetMiB: 70 },
  "bootmedia plan sample-dir": { args: [BIN, "plan", "fixtures/specs/sample-dir.yaml"], targetS: 0.5 },
};
const names = Object.keys(commands);
const runs = new Map<string, ProcessRun[]>(names.map((n) => [n, []]));

console.log(
  `whole process, ${ROUNDS} alternating rounds; load average before: ${await loadAverage()} (shared machine, 2 cores)`,
);
// One unmeasured pass: the first run after a build reads the files from disk.
for (const n of names) await runProcess("node", commands[n].args);
for (let r = 0; r < ROUNDS; r++) {
  for (const n of rotation(names, r)) runs.get(n)!.push(await runProcess("node", commands[n].args));
}
console.log(`load average after: ${await loadAverage()}\n`);
const floor = runs.get("node -e 0")!.map((x) => x.ms);
for (const n of names) {
  const ms = runs.get(n)!.map((x) => x.ms);
  const rss = runs.get(n)!.map((x) => x.maxRssKiB);
  const { targetS, targetMiB } = commands[n];
  const ratio = ms.map((m, i) => m / floor[i]);
  const above = ms.map((m, i) => m - floor[i]);
  const targets = targetS ? ` (targets: <= ${targetS} s${targetMiB ? `, <= ${targetMiB} MiB` : ""})` : "";
  console.log(
    `${n.padEnd(26)} median ${sec(median(ms))} (min ${sec(Math.min(...ms))}), ${n === "node -e 0" ? "the floor" : `x node -e 0: ${spread(ratio)}, above it: median ${sec(median(above))}`}, peak RSS ${mib(Math.max(...rss))} (median ${mib(median(rss))})${targets}`,
  );
}
