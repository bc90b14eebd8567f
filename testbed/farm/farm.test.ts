/**
 * What `testbed farm` writes, per engine, checked by independent readers: the GitHub workflow
 * by @action-validator/cli (GitHub's workflow schema, compiled to wasm: runs offline), the
 * shell scripts by `bash -n`, the YAML by the yaml parser; and each engine's shard command,
 * run through the variables that engine sets for index 0..N-1, picks shards 1..N.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execa } from "execa";
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { planFarm, FARM_ENGINES, type FarmRequest } from "./farm-plan.ts";
import { writeFarm, FARM_MANIFEST } from "./farm-files.ts";
import { resolveShard } from "./shard-env.ts";

const require = createRequire(import.meta.url);
const VALIDATOR = join(dirname(require.resolve("@action-validator/core/package.json")), "..", "cli", "cli.mjs");

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "bm-farm-files-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const request = (engine: string, over: Partial<FarmRequest> = {}): FarmRequest => ({
  engine,
  shards: 4,
  maxParallel: 2,
  inputs: ["fixtures/specs/reference.yaml", "media dir/it's.iso"],
  testbedArgs: ["--profiles", "x64-bios,x86-uefi", "--nics", "e1000"],
  concurrency: 2,
  cases: 10,
  memoryMiB: 1024,
  timeoutSec: 180,
  buildsMedia: true,
  bootmedia: "npx bootmedia",
  runDir: join(root, "run"),
  image: "registry.example/bootmedia:1",
  ...over,
});

async function written(engine: string, over: Partial<FarmRequest> = {}): Promise<string> {
  const out = join(root, `${engine}-${Math.random().toString(36).slice(2)}`);
  await writeFarm(planFarm(request(engine, { runDir: out, ...over })), out);
  return out;
}

/** The `--shard` value a shard command passes, once the engine's variables are in place. */
function shardArg(command: string, vars: Record<string, string>): string {
  const expanded = command.replace(/\$\{\{ matrix\.shard \}\}/g, vars.MATRIX_SHARD ?? "");
  return /--shard (\S+)/.exec(expanded)![1]!;
}

const covers = (shards: Array<{ index: number; count: number }>, n: number) =>
  expect(shards).toEqual(Array.from({ length: n }, (_, k) => ({ index: k + 1, count: n })));

describe("planFarm", () => {
  it("asks each shard for cores, memory and a time limit from the cases' needs", () => {
    const plan = planFarm(request("slurm"));
    expect(plan).toMatchObject({ cpus: 2, memMiB: 2 * (1024 + 256) + 512, casesPerShard: 3, maxParallel: 2 });
    // 3 cases 2 at a time: 2 rounds of (timeout + 30 s), 120 s per shard, 900 s to build the media.
    expect(plan.timeLimitMin).toBe(Math.ceil((2 * 210 + 120 + 900) / 60));
  });

  it("refuses what no engine can run: BM5016", () => {
    for (const bad of [
      { engine: "nomad" },
      { shards: 0 },
      { shards: 1001 },
      { shards: 257, engine: "github" },
      { shards: 201, engine: "gitlab" },
      { maxParallel: 0 },
      { concurrency: 0 },
      { engine: "kubernetes", image: undefined },
      { runDir: "relative/run" },
      { runDir: "/has space" },
    ]) {
      expect(
        () => planFarm(request((bad as { engine?: string }).engine ?? "slurm", bad as Partial<FarmRequest>)),
        JSON.stringify(bad),
      ).toThrow(expect.objectContaining({ code: "BM5016" }));
    }
  });
});

describe("writeFarm", () => {
  it("writes into a new or empty folder only (BM5017), leaving what is there untouched", async () => {
    const out = join(root, "taken");
    mkdirSync(out);
    writeFileSync(join(out, "results.json"), "last night's");
    await expect(writeFarm(planFarm(request("slurm", { runDir: out })), out)).rejects.toMatchObject({
      code: "BM5017",
      hint: expect.any(String),
    });
    expect(readdirSync(out)).toEqual(["results.json"]);
    expect(readFileSync(join(out, "results.json"), "utf8")).toBe("last night's");
    expect(readdirSync(root).filter((f) => f.startsWith(".taken"))).toEqual([]);
  });

  it.each(FARM_ENGINES)("%s: writes farm.json with the plan", async (engine) => {
    const out = await written(engine);
    const manifest = JSON.parse(readFileSync(join(out, FARM_MANIFEST), "utf8"));
    expect(manifest).toMatchObject({ engine, plan: { shards: 4, maxParallel: 2 } });
    for (const f of manifest.files) expect(existsSync(join(out, f)), f).toBe(true);
  });
});

describe("Slurm", () => {
  it("writes an array 0-(N-1)%K with one log per task, an afterany merge and scripts bash accepts", async () => {
    const out = await written("slurm");
    const sbatch = readFileSync(join(out, "shards.sbatch"), "utf8");
    expect(sbatch).toMatch(/^#SBATCH --array=0-3%2$/m);
    expect(sbatch).toMatch(/^#SBATCH --cpus-per-task=2$/m);
    expect(sbatch).toMatch(/^#SBATCH --mem=3072M$/m);
    expect(sbatch).toContain(`#SBATCH --output=${out}/logs/shard-%a.log`);
    const merge = readFileSync(join(out, "merge.sbatch"), "utf8");
    for (let k = 0; k < 4; k++) expect(merge).toContain(`${out}/shards/${k}`);
    expect(readFileSync(join(out, "submit.sh"), "utf8")).toContain("--dependency=afterany:");
    expect(statSync(join(out, "submit.sh")).mode & 0o111).not.toBe(0);
    for (const f of ["shards.sbatch", "merge.sbatch", "submit.sh"])
      expect((await execa("bash", ["-n", join(out, f)], { reject: false })).exitCode, f).toBe(0);
    covers(
      Array.from({ length: 4 }, (_, k) =>
        resolveShard(shardArg(sbatch, {}), {
          SLURM_ARRAY_TASK_ID: String(k),
          SLURM_ARRAY_TASK_COUNT: "4",
          SLURM_ARRAY_TASK_MIN: "0",
          SLURM_ARRAY_TASK_MAX: "3",
        }),
      ),
      4,
    );
  });

  it("passes inputs with spaces and quotes to the shard as one word each (bash is the oracle)", async () => {
    const out = await written("slurm", { bootmedia: "printf '%s\\n'" });
    const line = readFileSync(join(out, "shards.sbatch"), "utf8")
      .split("\n")
      .find((l) => l.startsWith("exec "))!;
    const { stdout } = await execa("bash", ["-c", line.replace(/^exec /, "")], { env: { SLURM_ARRAY_TASK_ID: "3" } });
    expect(stdout.split("\n")).toEqual([
      "testbed",
      "fixtures/specs/reference.yaml",
      "media dir/it's.iso",
      "--profiles",
      "x64-bios,x86-uefi",
      "--nics",
      "e1000",
      "--shard",
      "auto/4",
      "--report-dir",
      `${out}/shards/3`,
      "--concurrency",
      "2",
    ]);
  });
});

describe("GitHub Actions", () => {
  it("writes a workflow the offline validator accepts, and the validator rejects a broken one", async () => {
    const out = await written("github");
    const file = join(out, "bootmedia-farm.yml");
    const ok = await execa(process.execPath, [VALIDATOR, file], { reject: false });
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    const broken = join(out, "broken.yml");
    writeFileSync(broken, readFileSync(file, "utf8").replace("runs-on: ubuntu-latest", "runs-on-typo: ubuntu-latest"));
    expect((await execa(process.execPath, [VALIDATOR, broken], { reject: false })).exitCode).not.toBe(0);
  });

  it("runs N shards K at once without fail-fast, uploads each, and merges them always", async () => {
    const wf = parse(readFileSync(join(await written("github"), "bootmedia-farm.yml"), "utf8"));
    expect(wf.jobs.shards.strategy).toEqual({ "fail-fast": false, "max-parallel": 2, matrix: { shard: [1, 2, 3, 4] } });
    const run = wf.jobs.shards.steps.find((s: { name?: string }) => s.name === "testbed shard").run as string;
    expect(run).toContain("--report-dir shards/${{ matrix.shard }}");
    expect(wf.jobs.shards.steps.at(-1)).toMatchObject({ uses: "actions/upload-artifact@v4", if: "always()" });
    expect(wf.jobs.merge).toMatchObject({ needs: "shards", if: "always()" });
    expect(wf.jobs.merge.steps.find((s: { run?: string }) => s.run?.includes("merge")).run).toContain("--partial");
    covers(
      wf.jobs.shards.strategy.matrix.shard.map((v: number) =>
        resolveShard(shardArg(run, { MATRIX_SHARD: String(v) }), {}),
      ),
      4,
    );
  });
});

describe("GitLab CI", () => {
  it("runs `parallel: N` shards reporting their JUnit, and a merge in .post that always runs", async () => {
    const ci = parse(readFileSync(join(await written("gitlab"), "bootmedia-farm.gitlab-ci.yml"), "utf8"));
    const shards = ci["bootmedia-shards"];
    expect(shards).toMatchObject({
      parallel: 4,
      artifacts: { when: "always", reports: { junit: "shards/*/junit.xml" } },
    });
    const command = shards.script.at(-1) as string;
    expect(command).toContain('--report-dir "shards/$CI_NODE_INDEX"');
    expect(ci["bootmedia-merge"]).toMatchObject({
      stage: ".post",
      when: "always",
      needs: [{ job: "bootmedia-shards", artifacts: true }],
    });
    // GitLab sets CI_NODE_INDEX 1..N (and GITLAB_CI) in the N jobs.
    covers(
      Array.from({ length: 4 }, (_, k) =>
        resolveShard(shardArg(command, {}), { GITLAB_CI: "true", CI_NODE_INDEX: String(k + 1), CI_NODE_TOTAL: "4" }),
      ),
      4,
    );
  });
});

describe("Kubernetes", () => {
  it("writes a shared volume, an Indexed Job of N completions K in parallel, and a merge Job", async () => {
    const out = await written("kubernetes", { runDir: "/farm" });
    const docs = parseAllDocuments(readFileSync(join(out, "shards.yaml"), "utf8")).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual(["PersistentVolumeClaim", "Job"]);
    const job = docs[1];
    expect(job.spec).toMatchObject({
      completionMode: "Indexed",
      completions: 4,
      parallelism: 2,
      backoffLimitPerIndex: 1,
    });
    const container = job.spec.template.spec.containers[0];
    expect(container).toMatchObject({
      image: "registry.example/bootmedia:1",
      resources: { limits: { cpu: "2", memory: "3072Mi" } },
    });
    const command = container.command[2] as string;
    expect(command).toContain('--report-dir "/farm/shards/$JOB_COMPLETION_INDEX"');
    covers(
      Array.from({ length: 4 }, (_, k) => resolveShard(shardArg(command, {}), { JOB_COMPLETION_INDEX: String(k) })),
      4,
    );
    const merge = parse(readFileSync(join(out, "merge.yaml"), "utf8"));
    expect(merge).toMatchObject({ kind: "Job", metadata: { name: "bootmedia-merge" } });
    expect(readFileSync(join(out, "shards.yaml"), "utf8")).toContain("/dev/kvm must come from a device plugin");
    expect((await execa("sh", ["-n", join(out, "submit.sh")], { reject: false })).exitCode).toBe(0);
  });

  it("asks a device plugin for /dev/kvm when the shards run with KVM", async () => {
    const docs = parseAllDocuments(
      readFileSync(join(await written("kubernetes", { runDir: "/farm", kvm: true }), "shards.yaml"), "utf8"),
    ).map((d) => d.toJS());
    expect(docs[1].spec.template.spec.containers[0].resources.limits).toMatchObject({ "devices.kubevirt.io/kvm": "1" });
    expect(docs[1].spec.template.spec.containers[0].securityContext).toBeUndefined();
  });
});
