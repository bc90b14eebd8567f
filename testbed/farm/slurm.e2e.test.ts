/**
 * The farm on a real Slurm (Debian's slurmctld + slurmd, one node on 127.0.0.1): media built
 * by the CLI from the reference boot images, `testbed farm --engine slurm` writes the array
 * and merge jobs, its submit.sh submits them, the test polls squeue and reads scontrol, and
 * the merged JUnit is compared — by Python's ElementTree — with an unsharded run's. A second
 * farm has one shard fail on purpose (its folder already claimed by another shard): the
 * merge runs anyway (afterany) and its report names the shard and its cases.
 * 3 cases (one boot, two refusals), 2 shards: ~3 min under TCG on 2 busy cores (load 9).
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execa } from "execa";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootmedia } from "../../testing/cli.ts";
import { referenceImages } from "../../testing/reference-fixtures.ts";
import { REFERENCE_LIBRARY } from "../testing/reference-media.ts";
import { startSlurmCluster, waitForJobs, type SlurmCluster, type SlurmJob } from "./testing/slurm-cluster.ts";
import { SHARD_CLAIM } from "../shard-identity.ts";

const MATRIX = ["--profiles", "x64-bios,x86-bios,x86-uefi", "--nics", "e1000", "--timeout", "240"];

/** Each testcase of a JUnit file as `name verdict` (pass, failure or error), read by Python's ElementTree. */
async function junitVerdicts(file: string): Promise<string[]> {
  const py = `import sys,xml.etree.ElementTree as E
for t in E.parse(sys.argv[1]).getroot().iter('testcase'):
    v='failure' if t.find('failure') is not None else 'error' if t.find('error') is not None else 'pass'
    print(t.get('name'), v)`;
  const { stdout } = await execa("python3", ["-c", py, file]);
  return stdout.split("\n").filter(Boolean).sort();
}

interface Submitted {
  run: string;
  shards: string;
  merge: string;
  jobs: SlurmJob[];
}

describe("the farm on a real one-node Slurm", () => {
  let root: string;
  let cluster: SlurmCluster | undefined;
  let iso: string;
  let clean: Submitted;
  let failing: Submitted;

  async function farm(name: string, sabotage?: (run: string) => Promise<void>): Promise<Submitted> {
    const run = join(root, name);
    const wrote = await bootmedia([
      "testbed",
      "farm",
      iso,
      ...MATRIX,
      "--engine",
      "slurm",
      "--shards",
      "2",
      "--max-parallel",
      "2",
      "--out",
      run,
      "--times",
      join(root, "whole"),
    ]);
    expect(wrote.exitCode, wrote.stderr).toBe(0);
    if (sabotage) await sabotage(run);
    const submitted = await execa(join(run, "submit.sh"), { env: cluster!.env });
    const shards = /^shards=(\d+)$/m.exec(submitted.stdout)![1]!;
    const merge = /^merge=(\d+)$/m.exec(submitted.stdout)![1]!;
    return { run, shards, merge, jobs: await waitForJobs([shards, merge], cluster!.env, 480_000) };
  }

  beforeAll(async () => {
    await referenceImages();
    root = await mkdtemp(join(tmpdir(), "bm-farm-slurm-"));
    // x64 images only: x64-bios boots, x86-bios refuses (needs-x64-cpu), x86-uefi finds no boot file.
    const spec = join(root, "farm.yaml");
    iso = join(root, "farm.iso");
    await writeFile(
      spec,
      `name: farm\nbootImage: BM100064\ntaskSequence: BM200010\ncontentLibrary: ${REFERENCE_LIBRARY}\ntarget: { type: iso, output: ${iso} }\n`,
    );
    const built = await bootmedia(["build", spec, "--force"]);
    expect(built.exitCode, built.stderr).toBe(0);
    const [started, whole] = await Promise.all([
      startSlurmCluster({ cpus: 2 }),
      bootmedia(["testbed", iso, ...MATRIX, "--concurrency", "2", "--report-dir", join(root, "whole")]),
    ]);
    cluster = started;
    expect(whole.exitCode, whole.stderr).toBe(0);
    clean = await farm("run");
    // Shard 1/2 (array task 0) finds its folder claimed by another shard: BM5108, no results.
    failing = await farm("run-fail", async (run) => {
      await mkdir(join(run, "shards/0"));
      await writeFile(
        join(run, "shards/0", SHARD_CLAIM),
        JSON.stringify({ shard: { index: 2, count: 2 }, fingerprint: "another run" }),
      );
    });
  }, 900_000);

  afterAll(async () => {
    await cluster?.stop();
    if (root) await rm(root, { recursive: true, force: true });
    if (cluster) await rm(cluster.dir, { recursive: true, force: true });
  });

  it("writes an array of N tasks, K at once, one log each, and a merge after it (afterany)", () => {
    const sbatch = readFileSync(join(clean.run, "shards.sbatch"), "utf8");
    expect(sbatch).toMatch(/^#SBATCH --array=0-1%2$/m);
    expect(sbatch).toMatch(/^#SBATCH --cpus-per-task=1$/m);
    expect(sbatch).toContain("--shard auto/2");
    expect(readFileSync(join(clean.run, "submit.sh"), "utf8")).toContain("--dependency=afterany:");
    const tasks = clean.jobs.filter((j) => j.arrayJobId === clean.shards);
    expect(tasks.map((t) => [t.arrayTaskId, t.state]).sort()).toEqual([
      ["0", "COMPLETED"],
      ["1", "COMPLETED"],
    ]);
    for (const t of tasks)
      expect(readFileSync(join(clean.run, `logs/shard-${t.arrayTaskId}.log`), "utf8")).toMatch(/cases as expected/);
    const merge = clean.jobs.find((j) => j.jobId === clean.merge)!;
    expect(merge.state).toBe("COMPLETED");
    expect(merge.start!.getTime()).toBeGreaterThanOrEqual(Math.max(...tasks.map((t) => t.end!.getTime())));
  });

  it("merges into one JUnit with the unsharded run's cases, each once, with the same verdicts", async () => {
    const whole = await junitVerdicts(join(root, "whole/junit.xml"));
    const merged = await junitVerdicts(join(clean.run, "report/junit.xml"));
    expect(whole).toHaveLength(3);
    expect(new Set(merged.map((l) => l.split(" ")[0])).size).toBe(merged.length);
    expect(merged).toEqual(whole);
    expect(existsSync(join(clean.run, "report/index.html"))).toBe(true);
  });

  it("runs the merge after a shard that failed on purpose, and its report shows the shard", async () => {
    const tasks = failing.jobs.filter((j) => j.arrayJobId === failing.shards);
    expect(tasks.map((t) => [t.arrayTaskId, t.state, t.exitCode]).sort()).toEqual([
      ["0", "FAILED", "1:0"],
      ["1", "COMPLETED", "0:0"],
    ]);
    expect(readFileSync(join(failing.run, "logs/shard-0.log"), "utf8")).toContain("BM5108");
    // The merge ran (afterany) and failed the job itself: cases were not run.
    const merge = failing.jobs.find((j) => j.jobId === failing.merge)!;
    expect([merge.state, merge.exitCode]).toEqual(["FAILED", "1:0"]);
    const whole = await junitVerdicts(join(root, "whole/junit.xml"));
    const merged = await junitVerdicts(join(failing.run, "report/junit.xml"));
    const results = JSON.parse(readFileSync(join(failing.run, "report/results.json"), "utf8"));
    const notRun: string[] = results.notRun[0].cases;
    expect(results.notRun[0].shard).toEqual({ index: 1, count: 2 });
    expect(notRun.length).toBeGreaterThan(0);
    // Every case once: the failed shard's as errors, the other shard's as in the unsharded run.
    expect(merged).toEqual(whole.map((l) => (notRun.includes(l.split(" ")[0]!) ? `${l.split(" ")[0]} error` : l)));
    const html = readFileSync(join(failing.run, "report/index.html"), "utf8");
    expect(html).toContain("Shards without results");
    expect(html).toContain("shard 1/2");
  });

  it("stops both daemons by pid and leaves nothing running", async () => {
    const pids = cluster!.pids;
    expect(pids).toHaveLength(2);
    await cluster!.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    // The daemons name our slurm.conf on their command line; job steps would be slurmstepd.
    const left = await execa("pgrep", ["-a", "-f", `${cluster!.dir}|^slurmstepd`], { reject: false });
    expect(left.stdout.trim()).toBe("");
  });
});
