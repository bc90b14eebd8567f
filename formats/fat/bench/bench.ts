/**
 * Benchmark, as users run it: `bootmedia image fat <tree> -o fs.img` as a whole process
 * (compiled CLI, start-up included) against mkfs.fat + mcopy and against `cat` of the same
 * bytes, on a ~1.1 GiB tree (generated once). Every contender pays the same durability:
 * bootmedia fsyncs its output before renaming it into place, the others end with `sync -d`
 * of their output. Rounds alternate the order; printed are the per-round (paired) ratios as
 * median, min and max, each process's peak RSS, where bootmedia's time goes
 * (BOOTMEDIA_TIMINGS=1 phase lines, median per phase), fsck.fat on bootmedia's image, and
 * beside them the in-process writer figures as before (listing + writeFat in a child, no
 * process start, no fsync).
 * Usage: npm run build && npm run bench:fat [-- cacheDir=.cache/bench-fat] [--rounds 7]
 */
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { treeFromDir } from "../../../base/dir-tree.ts";
import { writeFat } from "../write.ts";
import { makeRandom } from "../testing/random-tree.ts";

const MIB = 2 ** 20;
const ROUNDS = process.argv.includes("--rounds") ? Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 7 : 7;
/** Big WIM-like files, medium driver packs, many small files: about 1.1 GiB. */
const TREE_SHAPE = {
  big: { count: 8, bytes: 100 * MIB },
  medium: { count: 60, bytes: 4 * MIB },
  small: { count: 3000, maxBytes: 24 * 1024 },
};

async function generateBenchTree(dir: string): Promise<void> {
  const done = join(dir, ".complete");
  if (existsSync(done)) return;
  await rm(dir, { recursive: true, force: true });
  const rnd = makeRandom(42);
  const chunk = Buffer.alloc(MIB);
  const fill = () => {
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((rnd() * 2 ** 32) >>> 0, i);
  };
  const writeSized = async (path: string, bytes: number) => {
    const parts: Buffer[] = [];
    for (let left = bytes; left > 0; left -= MIB) {
      fill();
      parts.push(Buffer.from(chunk.subarray(0, Math.min(MIB, left))));
    }
    await writeFile(path, Buffer.concat(parts));
  };
  await mkdir(join(dir, "sources"), { recursive: true });
  for (let i = 0; i < TREE_SHAPE.big.count; i++)
    await writeSized(join(dir, "sources", `install part ${i}.swm`), TREE_SHAPE.big.bytes);
  for (let i = 0; i < TREE_SHAPE.medium.count; i++) {
    await mkdir(join(dir, "Drivers", `Pack ${i % 10}`), { recursive: true });
    await writeSized(join(dir, "Drivers", `Pack ${i % 10}`, `driver package ${i}.cab`), TREE_SHAPE.medium.bytes);
  }
  for (let i = 0; i < TREE_SHAPE.small.count; i++) {
    const sub = join(dir, "Tools", `Set ${i % 30}`, `Group ${i % 7}`);
    await mkdir(sub, { recursive: true });
    fill();
    await writeFile(
      join(sub, `Small configuration file ${i}.xml`),
      chunk.subarray(0, Math.floor(rnd() * TREE_SHAPE.small.maxBytes)),
    );
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
  console.log(
    JSON.stringify({
      seconds: (performance.now() - started) / 1000,
      listSeconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

async function runBench(cacheDir: string): Promise<void> {
  // Loaded here, not at the top: the child measures the writer's memory, not the bench's tools.
  const { execa } = await import("execa");
  const pb = await import("../../../testing/process-bench.ts");
  const { sec, mib, median, spread } = pb;
  const treeDir = join(cacheDir, "tree");
  await generateBenchTree(treeDir);
  const entries = (await treeFromDir(treeDir)).filter((e) => !e.path.startsWith("."));
  const bytes = entries.reduce((s, e) => s + (e.type === "file" ? e.size : 0), 0);
  const sizeBytes = Math.ceil((bytes * 1.1) / MIB) * MIB;
  console.log(
    `tree: ${entries.filter((e) => e.type === "file").length} files, ${(bytes / 2 ** 30).toFixed(2)} GiB; image ${sizeBytes / MIB} MiB`,
  );
  // Warm the page cache once so every contender reads from memory.
  await execa("sh", ["-c", `find "${treeDir}" -type f -print0 | xargs -0 cat > /dev/null`]);

  const out = join(cacheDir, "out.img");
  const settle = async () => {
    await rm(out, { force: true });
    await execa("sync");
  };
  type Name = "cat + sync" | "mkfs.fat + mcopy + sync" | "bootmedia image fat";
  const contenders: Record<Name, () => Promise<import("../../../testing/process-bench.ts").ProcessRun>> = {
    "cat + sync": () =>
      pb.runShell(`find "${treeDir}" -type f ! -name .complete -print0 | xargs -0 cat > "${out}" && sync -d "${out}"`),
    "mkfs.fat + mcopy + sync": () =>
      pb.runShell(
        `mkfs.fat -F 32 -n BENCH -C "${out}" ${sizeBytes / 1024} >/dev/null && mcopy -s -i "${out}" "${treeDir}"/* ::/ && sync -d "${out}"`,
        { env: { MTOOLS_SKIP_CHECK: "1" } },
      ),
    "bootmedia image fat": () =>
      pb.runProcess(
        "node",
        [
          pb.bin(),
          "image",
          "fat",
          treeDir,
          "-o",
          out,
          "--size",
          String(sizeBytes),
          "--fat-type",
          "32",
          "--label",
          "BENCH",
        ],
        { env: { BOOTMEDIA_TIMINGS: "1" } },
      ),
  };
  const names = Object.keys(contenders) as Name[];
  const runs = new Map<Name, import("../../../testing/process-bench.ts").ProcessRun[]>(names.map((n) => [n, []]));
  let fsckClean = true;
  console.log(
    `whole process, ${ROUNDS} alternating rounds, load average before: ${await pb.loadAverage()} (shared machine, 2 cores)`,
  );
  for (let r = 0; r < ROUNDS; r++) {
    const line: string[] = [];
    for (const name of pb.rotation(names, r)) {
      await settle();
      const run = await contenders[name]();
      runs.get(name)!.push(run);
      line.push(`${name} ${sec(run.ms)} ${mib(run.maxRssKiB)}`);
      if (name === "bootmedia image fat") {
        const fsck = await execa("fsck.fat", ["-n", out], { reject: false });
        if (fsck.exitCode !== 0) {
          fsckClean = false;
          console.log(fsck.stdout);
        }
      }
    }
    const [c, m, o] = names.map((n) => runs.get(n)![r].ms);
    console.log(
      `round ${r + 1}: ${line.join(", ")}; mtools/bootmedia ${(m / o).toFixed(2)}x, bootmedia/cat ${(o / c).toFixed(2)}`,
    );
  }
  await rm(out, { force: true });
  const times = (n: Name) => runs.get(n)!.map((x) => x.ms);
  const ours = times("bootmedia image fat");
  const speedUp = ours.map((o, i) => times("mkfs.fat + mcopy + sync")[i] / o);
  const vsCat = ours.map((o, i) => o / times("cat + sync")[i]);
  console.log(`\nload average after: ${await pb.loadAverage()}`);
  for (const n of names) {
    const rss = runs.get(n)!.map((x) => x.maxRssKiB);
    console.log(
      `${n.padEnd(24)}: median ${sec(median(times(n)))} (min ${sec(Math.min(...times(n)))}), peak RSS ${mib(Math.max(...rss))} (median ${mib(median(rss))})`,
    );
  }
  console.log(`speed-up over mkfs.fat + mcopy (paired): ${spread(speedUp)}x (target >= 1.30)`);
  console.log(`bootmedia / cat floor (paired): ${spread(vsCat)} (target <= 1.30)`);
  console.log(
    `bootmedia peak RSS, whole process: ${mib(Math.max(...runs.get("bootmedia image fat")!.map((x) => x.maxRssKiB)))} worst round (target <= 80 MiB)`,
  );
  console.log(`fsck.fat -n on bootmedia's images: ${fsckClean ? "clean" : "NOT CLEAN"}`);
  console.log(
    `where bootmedia's time goes (BOOTMEDIA_TIMINGS=1, median per phase; copy runs alongside layout and metadata):`,
  );
  for (const [phase, ms] of pb.medianTimings(runs.get("bootmedia image fat")!.map((x) => pb.parseTimings(x.stderr))))
    console.log(`  ${phase.padEnd(30)} ${ms.toFixed(0)} ms`);

  // In-process writer figures (as this bench printed before): listing + writeFat in a child under tsx, no fsync.
  const self = fileURLToPath(import.meta.url);
  const inProc: { seconds: number; listSeconds: number; cpuSeconds: number; maxRssMiB: number }[] = [];
  for (let r = 0; r < Math.min(ROUNDS, 3); r++) {
    await settle();
    const child = await execa("npx", ["tsx", self, "--child", treeDir, out, String(sizeBytes)]);
    inProc.push(JSON.parse(child.stdout.trim().split("\n").pop()!));
  }
  await rm(out, { force: true });
  console.log(
    `\nin-process list + writeFat (no process start, no fsync), ${inProc.length} runs: median ${median(inProc.map((x) => x.seconds)).toFixed(2)} s (listing ${median(inProc.map((x) => x.listSeconds)).toFixed(2)} s, CPU ${median(inProc.map((x) => x.cpuSeconds)).toFixed(2)} s), peak RSS ${Math.max(...inProc.map((x) => x.maxRssMiB)).toFixed(0)} MiB`,
  );
}

if (process.argv[2] === "--child") await runChild(process.argv[3], process.argv[4], Number(process.argv[5]));
else
  await runBench(resolve(process.argv[2] && !process.argv[2].startsWith("--") ? process.argv[2] : ".cache/bench-fat"));
