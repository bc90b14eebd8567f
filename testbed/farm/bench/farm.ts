/**
 * Bench: the farm on a one-node Slurm (testing/slurm-cluster.ts) against one unsharded run,
 * on media built from the reference boot images. Prints
 *   - scheduling overhead per array task: StartTime − the moment it could start (its
 *     SubmitTime, or for a task held back by %K the EndTime that freed its slot), from scontrol;
 *   - wall time: the unsharded run (`--concurrency K`) against the farm (array submit → merge end);
 *   - the capacity plan's prediction (from the unsharded run's results.json) against the farm measured.
 * Everything runs as whole `bootmedia` processes, as users run them.
 *   npm run bench:farm [-- --shards 4] [--max-parallel 2] [--profiles x86-bios,x64-bios,x86-uefi,x64-uefi]
 */
import { execa } from "execa";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { bootmedia } from "../../../testing/cli.ts";
import { buildReferenceImages } from "../../../fixtures/boot-images/build.ts";
import { REFERENCE_LIBRARY } from "../../testing/reference-media.ts";
import { startSlurmCluster, waitForJobs, type SlurmJob } from "../testing/slurm-cluster.ts";

const option = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const shards = Number(option("shards", "4"));
const atOnce = Number(option("max-parallel", "2"));
const matrix = [
  "--profiles",
  option("profiles", "x86-bios,x64-bios,x86-uefi,x64-uefi"),
  "--nics",
  "e1000",
  "--timeout",
  "300",
];
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Per task (in start order): StartTime − when a slot was free for it. */
function overheads(tasks: readonly SlurmJob[], slots: number): Array<{ task: string; ms: number }> {
  const started = [...tasks].sort((a, b) => a.start!.getTime() - b.start!.getTime());
  const ends = tasks.map((t) => t.end!.getTime()).sort((a, b) => a - b);
  return started.map((t, i) => {
    const ready = Math.max(t.submit.getTime(), i < slots ? 0 : ends[i - slots]!);
    return { task: t.arrayTaskId!, ms: t.start!.getTime() - ready };
  });
}

async function main(): Promise<void> {
  await buildReferenceImages({ log: () => undefined });
  const root = await mkdtemp(join(tmpdir(), "bm-bench-farm-"));
  const cluster = await startSlurmCluster({ cpus: 2 });
  try {
    const spec = join(root, "bench.yaml");
    const iso = join(root, "bench.iso");
    await writeFile(
      spec,
      `name: bench\nbootImage: [BM100086, BM100064]\ntaskSequence: BM200010\ncontentLibrary: ${REFERENCE_LIBRARY}\ntarget: { type: iso, output: ${iso} }\n`,
    );
    const built = await bootmedia(["build", spec, "--force"]);
    if (built.exitCode !== 0) throw new Error(built.stderr);

    const t0 = performance.now();
    const whole = await bootmedia([
      "testbed",
      iso,
      ...matrix,
      "--concurrency",
      String(atOnce),
      "--report-dir",
      join(root, "whole"),
    ]);
    const unshardedMs = performance.now() - t0;
    if (whole.exitCode !== 0) throw new Error(`unsharded run: ${whole.stderr}`);

    const run = join(root, "run");
    const farm = await bootmedia([
      "testbed",
      "farm",
      iso,
      ...matrix,
      "--engine",
      "slurm",
      "--shards",
      String(shards),
      "--max-parallel",
      String(atOnce),
      "--out",
      run,
      "--times",
      join(root, "whole"),
      "--json",
    ]);
    if (farm.exitCode !== 0) throw new Error(farm.stderr);
    const predicted = (JSON.parse(farm.stdout).capacity.predictions as Array<{ shards: number; wallMs: number }>).find(
      (p) => p.shards === shards,
    )!;

    const submitted = await execa(join(run, "submit.sh"), { env: cluster.env });
    const ids = [/^shards=(\d+)$/m.exec(submitted.stdout)![1]!, /^merge=(\d+)$/m.exec(submitted.stdout)![1]!];
    const jobs = await waitForJobs(ids, cluster.env, 3_600_000);
    const tasks = jobs.filter((j) => j.arrayJobId === ids[0] && j.arrayTaskId !== undefined && j.jobId !== ids[1]);
    const merge = jobs.find((j) => j.jobId === ids[1])!;
    const first = Math.min(...tasks.map((t) => t.submit.getTime()));
    const shardsEnd = Math.max(...tasks.map((t) => t.end!.getTime()));
    const farmMs = merge.end!.getTime() - first;
    const merged = JSON.parse(await readFile(join(run, "report/results.json"), "utf8"));

    const over = overheads(tasks, atOnce);
    const cases = JSON.parse(await readFile(join(root, "whole/results.json"), "utf8")).cases.length as number;
    process.stdout.write(`bench:farm — ${cases} cases (${matrix[1]} × e1000), ${shards} shards, ${atOnce} at once, one-node Slurm ${cluster.dir}; Slurm times have 1 s resolution
scheduling overhead per array task (StartTime − slot free): ${over.map((o) => `task ${o.task} ${secs(o.ms)}`).join(", ")}; mean ${secs(over.reduce((a, o) => a + o.ms, 0) / over.length)}, max ${secs(Math.max(...over.map((o) => o.ms)))}
merge job start after the last shard ended: ${secs(merge.start!.getTime() - shardsEnd)}
wall time: unsharded (--concurrency ${atOnce}) ${secs(unshardedMs)}; farm (submit → merge end) ${secs(farmMs)}, shards alone ${secs(shardsEnd - first)}
capacity plan for ${shards} shards × ${atOnce} at once: predicted ${secs(predicted.wallMs)}, measured (shards alone) ${secs(shardsEnd - first)}
merged report: ${merged.summary.ok}/${merged.summary.total} as expected, ${merged.summary.notRun ?? 0} not run
`);
  } finally {
    await cluster.stop();
    await rm(cluster.dir, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:farm failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
