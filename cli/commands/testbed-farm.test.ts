/**
 * `bootmedia testbed farm` and `--shard auto` as users run them: a farm folder with the
 * capacity plan printed, and bad input as coded errors with hints, exit 1, nothing written.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootmedia, ROOT } from "../../testing/cli.ts";
import { summarizeCases, writeReport } from "../../testbed/report.ts";
import { buildMatrix } from "../../testbed/matrix.ts";
import { fakeResult } from "../../testbed/testing/results.ts";

const SPEC = join(ROOT, "fixtures/specs/reference.yaml");
const MATRIX = ["--profiles", "x64-bios,x86-bios", "--nics", "e1000", "--media", "iso"];
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "bm-farm-cli-"));
  // An earlier run's times: 10 s and 30 s for the two cases a spec-built ISO gives.
  const dir = join(root, "last");
  const cases = buildMatrix(
    [{ kind: "iso", path: "/m/reference.iso", images: ["x86", "x64"], drivers: ["e1000"], label: "reference-iso" }],
    ["x64-bios", "x86-bios"],
    ["e1000"],
  );
  const results = cases.map((c, i) => ({
    ...fakeResult(dir, c, i),
    timings: { firstSerialMs: 1, verdictMs: 0, totalMs: [10_000, 30_000][i]! },
  }));
  await writeReport(dir, { schema: 1, accel: "tcg", shard: null, summary: summarizeCases(results), cases: results });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("bootmedia testbed farm", () => {
  it("writes the engine's files and prints the capacity plan from the last run's times", async () => {
    const out = join(root, "run");
    const r = await bootmedia([
      "testbed",
      "farm",
      SPEC,
      ...MATRIX,
      "--engine",
      "slurm",
      "--shards",
      "2",
      "--out",
      out,
      "--times",
      join(root, "last"),
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      "farm.json",
      "logs",
      "merge.sbatch",
      "shards",
      "shards.sbatch",
      "submit.sh",
    ]);
    expect(r.stdout).toContain("2 cases in 2 shards");
    // 1 shard: 3 s + 10 s + 30 s; 2 shards at once: the longer, 3 s + 30 s.
    expect(r.stdout).toMatch(/^\s+1\s+1\s+1\s+43 s\s+43 s\s+43 s$/m);
    expect(r.stdout).toMatch(/^\s+2\s+2\s+2\s+33 s\s+33 s\s+46 s$/m);
  });

  it.each([
    ["--shards 0", ["--engine", "slurm", "--shards", "0"], "BM5016"],
    ["an unknown engine", ["--engine", "nomad", "--shards", "2"], "BM5016"],
    ["--max-parallel 0", ["--engine", "github", "--shards", "2", "--max-parallel", "0"], "BM5016"],
    ["kubernetes without an image", ["--engine", "kubernetes", "--shards", "2"], "BM5016"],
  ])("refuses %s: a coded error with a hint, exit 1, nothing written", async (_, flags, code) => {
    const out = join(root, `bad-${code}-${Math.random().toString(36).slice(2)}`);
    const r = await bootmedia(["testbed", "farm", SPEC, ...MATRIX, ...flags, "--out", out]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(code);
    expect(r.stderr).toMatch(/hint/i);
    expect(existsSync(out)).toBe(false);
  });

  it("never writes over an earlier farm folder (BM5017)", async () => {
    const out = join(root, "run");
    const before = readdirSync(out).sort();
    const r = await bootmedia([
      "testbed",
      "farm",
      SPEC,
      ...MATRIX,
      "--engine",
      "gitlab",
      "--shards",
      "3",
      "--out",
      out,
    ]);
    expect([r.exitCode, r.stderr.includes("BM5017")]).toEqual([1, true]);
    expect(readdirSync(out).sort()).toEqual(before);
  });
});

describe("bootmedia testbed --shard auto", () => {
  it("refuses before building anything when no engine gives a shard, or its index is outside the count", async () => {
    const clean = Object.fromEntries(
      Object.keys(process.env)
        .filter((k) => /^(SLURM_|JOB_COMPLETION|CI_NODE|BUILDKITE_PARALLEL|CIRCLE_NODE)/.test(k))
        .map((k) => [k, ""]),
    );
    const none = await bootmedia(["testbed", SPEC, "--shard", "auto", "--report-dir", join(root, "auto")], {
      env: clean,
    });
    expect([none.exitCode, none.stderr.includes("BM5014")]).toEqual([1, true]);
    const outside = await bootmedia(["testbed", SPEC, "--shard", "auto/4", "--report-dir", join(root, "auto")], {
      env: { ...clean, JOB_COMPLETION_INDEX: "4" },
    });
    expect([outside.exitCode, outside.stderr.includes("BM5015")]).toEqual([1, true]);
    expect(existsSync(join(root, "auto"))).toBe(false);
  });
});
