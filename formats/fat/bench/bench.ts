/**
 * Benchmark: the same >= 1 GiB tree written as FAT32 by bootmedia and by mkfs.fat + mcopy,
 * in one run. Prints both times, the ratio and bootmedia's peak RSS (measured in a child),
 * and `cat` of the same bytes to one file: no writer can beat that, so mtools/cat is the
 * ceiling for the ratio on this machine. bootmedia's time includes listing the folder
 * (treeFromDir, as `bootmedia image fat` does); mcopy lists it as part of its own work.
 * Usage: tsx formats/fat/bench/bench.ts [cacheDir=.cache/bench-fat] [--rounds 7]
 */
import { existsSync } from "node:fs";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { treeFromDir } from "../../../base/dir-tree.ts";
import { writeFat } from "../write.ts";
import { makeRandom } from "../testing/random-tree.ts";

const MIB = 2 ** 20;
const ROUNDS = process.argv.includes("--rounds") ? Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 7 : 7;
/** Big WIM-like files, medium driver packs, many small files: about 1.1 GiB. */
const TREE_SHAPE = { big: { count: 8, bytes: 100 * MIB }, medium: { count: 60, bytes: 4 * MIB }, small: { count: 3000, maxBytes: 24 * 1024 } };

async function generateBenchTree(dir: string): Promise<void> {
  const done = join(dir, ".complete");
  if (existsSync(done)) return;
  await rm(dir, { recursive: true, force: true });
  const rnd = makeRandom(42);
  const chunk = Buffer.alloc(MIB);
  const fill = () => { for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((rnd() * 2 ** 32) >>> 0, i); };
  const writeSized = async (path: string, bytes: number) => {
    const parts: Buffer[] = [];
    for (let left = bytes; left > 0; left -= MIB) { fill(); parts.push(Buffer.from(chunk.subarray(0, Math.min(MIB, left)))); }
    await writeFile(path, Buffer.concat(parts));
  };
  await mkdir(join(dir, "sources"), { recursive: true });
  for (let i = 0; i < TREE_SHAPE.big.count; i++) await writeSized(join(dir, "sources", `install part ${i}.swm`), TREE_SHAPE.big.bytes);
  for (let i = 0; i < TREE_SHAPE.medium.count; i++) {
    await mkdir(join(dir, "Drivers", `Pack ${i % 10}`), { recursive: true });
    await writeSized(join(dir, "Drivers", `Pack ${i % 10}`, `driver package ${i}.cab`), TREE_SHAPE.medium.bytes);
  }
  for (let i = 0; i < TREE_SHAPE.small.count; i++) {
    const sub = join(dir, "Tools", `Set ${i % 30}`, `Group ${i % 7}`);
    await mkdir(sub, { recursive: true });
    fill();
    await writeFile(join(sub, `Small configuration file ${i}.xml`), chunk.subarray(0, Math.floor(rnd() * TREE_SHAPE.small.maxBytes)));
  }
  await writeFile(done, "");
}

/** Child mode: writes the image and prints its peak RSS, so the parent's memory never counts. */
async function runChild(treeDir: string, out: string, sizeBytes: number): Promise<void> {
  // As bin/bootmedia.js does: keep V8's young generation at its initial size (about 20 MiB less RSS).
  (await import("node:v8")).setFlagsFromString("--semi-space-growth-factor=1");
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const entries = (await treeFromDir(treeDir)).filter((e) => !e.path.startsWith("."));
  const listSeconds = (performance.now() - started) / 1000;
  await writeFat(entries, { sourceDateEpoch: 1700000000, fatType: 32, sizeBytes, label: "BENCH" }, out);
  const cpu = process.cpuUsage(cpu0);
  // CPU time (user + system) too: on a shared machine it varies far less than wall time.
  console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, listSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

async function runBench(cacheDir: string): Promise<void> {
  // Loaded here, not at the top: the child measures the writer's memory, not the bench's tools.
  const { execa } = await import("execa");
  const treeDir = join(cacheDir, "tree");
  await generateBenchTree(treeDir);
  const entries = (await treeFromDir(treeDir)).filter((e) => !e.path.startsWith("."));
  const bytes = entries.reduce((s, e) => s + (e.type === "file" ? e.size : 0), 0);
  const sizeBytes = Math.ceil((bytes * 1.1) / MIB) * MIB;
  console.log(`tree: ${entries.filter((e) => e.type === "file").length} files, ${(bytes / 2 ** 30).toFixed(2)} GiB; image ${sizeBytes / MIB} MiB`);

  const ref = join(cacheDir, "mkfs.img");
  const ours = join(cacheDir, "bootmedia.img");
  const self = fileURLToPath(import.meta.url);
  const catOut = join(cacheDir, "cat.out");
  let best = { mtools: Infinity, ours: Infinity, list: Infinity, cat: Infinity, wall: Infinity, rss: 0 };
  let fsckClean = true;
  const pairs: { speedUp: number; vsCat: number; ceiling: number }[] = [];
  // Alternating rounds, best time of each (the machine is shared); RSS is the worst round's.
  for (let round = 1; round <= ROUNDS; round++) {
    await rm(ref, { force: true });
    // Each contender starts with no dirty pages of earlier writes still being flushed.
    await execa("sync");
    let t = performance.now();
    await execa("mkfs.fat", ["-F", "32", "-C", ref, String(sizeBytes / 1024)]); // mkfs.fat ends with an fsync of the new image
    const mkfsSeconds = (performance.now() - t) / 1000;
    await execa("sh", ["-c", `mcopy -s -i "${ref}" "${treeDir}"/* ::/`], { env: { MTOOLS_SKIP_CHECK: "1" } });
    const mtoolsSeconds = (performance.now() - t) / 1000;
    await rm(ref, { force: true });

    await rm(ours, { force: true });
    await execa("sync");
    t = performance.now();
    const child = await execa("npx", ["tsx", self, "--child", treeDir, ours, String(sizeBytes)]);
    const wallSeconds = (performance.now() - t) / 1000;
    const r = JSON.parse(child.stdout.trim().split("\n").pop()!) as { seconds: number; listSeconds: number; cpuSeconds: number; maxRssMiB: number };
    const fsck = await execa("fsck.fat", ["-n", ours], { reject: false });
    if (fsck.exitCode !== 0) { fsckClean = false; console.log(fsck.stdout); }
    await rm(ours, { force: true });

    await rm(catOut, { force: true });
    await execa("sync");
    t = performance.now();
    await execa("sh", ["-c", `find "${treeDir}" -type f ! -name .complete -print0 | xargs -0 cat > "${catOut}"`]);
    const catSeconds = (performance.now() - t) / 1000;
    await rm(catOut, { force: true });
    console.log(`round ${round}: mkfs.fat + mcopy ${mtoolsSeconds.toFixed(2)} s (mkfs.fat ${mkfsSeconds.toFixed(2)} s), bootmedia ${r.seconds.toFixed(2)} s (listing ${r.listSeconds.toFixed(2)} s; cpu ${r.cpuSeconds.toFixed(2)} s; ${(mtoolsSeconds / r.seconds).toFixed(2)}x; child wall incl. tsx start ${wallSeconds.toFixed(2)} s), cat ${catSeconds.toFixed(2)} s, peak RSS ${r.maxRssMiB.toFixed(1)} MiB`);
    pairs.push({ speedUp: mtoolsSeconds / r.seconds, vsCat: catSeconds / r.seconds, ceiling: mtoolsSeconds / catSeconds });
    best = {
      mtools: Math.min(best.mtools, mtoolsSeconds), ours: Math.min(best.ours, r.seconds), list: Math.min(best.list, r.listSeconds),
      cat: Math.min(best.cat, catSeconds), wall: Math.min(best.wall, wallSeconds), rss: Math.max(best.rss, r.maxRssMiB),
    };
  }

  // Lower median of the ratios measured side by side within a round (the machine is shared).
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  console.log(`\nbest of ${ROUNDS} alternating rounds (and the median of the per-round ratios)`);
  console.log(`mkfs.fat -F 32 + mcopy -s : ${best.mtools.toFixed(2)} s`);
  console.log(`bootmedia list + writeFat : ${best.ours.toFixed(2)} s (listing ${best.list.toFixed(2)} s; child wall incl. tsx start ${best.wall.toFixed(2)} s)`);
  console.log(`cat of the same bytes     : ${best.cat.toFixed(2)} s (the floor for any writer: ceiling ${(best.mtools / best.cat).toFixed(2)}x, median ${median(pairs.map((p) => p.ceiling)).toFixed(2)}x)`);
  console.log(`speed-up                  : ${(best.mtools / best.ours).toFixed(2)}x best vs best, ${median(pairs.map((p) => p.speedUp)).toFixed(2)}x median (target >= 2x)`);
  console.log(`throughput vs cat         : ${(best.cat / best.ours).toFixed(2)}x best vs best, ${median(pairs.map((p) => p.vsCat)).toFixed(2)}x median`);
  console.log(`bootmedia peak RSS        : ${best.rss.toFixed(1)} MiB, worst round, under tsx with bin/bootmedia.js's V8 flag (target <= 120 MiB)`);
  console.log(`fsck.fat -n on our image  : ${fsckClean ? "clean" : "NOT CLEAN"}`);
}

if (process.argv[2] === "--child") await runChild(process.argv[3], process.argv[4], Number(process.argv[5]));
else await runBench(resolve(process.argv[2] && !process.argv[2].startsWith("--") ? process.argv[2] : ".cache/bench-fat"));
