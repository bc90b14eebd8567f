import { describe, it, expect } from "vitest";
import { resolveShard, shardFromEnvironment } from "./shard-env.ts";

// The variables as each engine documents them, written out by hand: Slurm's sbatch(1)
// "OUTPUT ENVIRONMENT VARIABLES", Kubernetes' Indexed Job, GitLab's predefined variables, Buildkite's.
const slurm = (id: number, min: number, max: number, step = 1) => ({
  SLURM_JOB_ID: "7",
  SLURM_ARRAY_JOB_ID: "7",
  SLURM_ARRAY_TASK_ID: String(id),
  SLURM_ARRAY_TASK_COUNT: String(Math.floor((max - min) / step) + 1),
  SLURM_ARRAY_TASK_MIN: String(min),
  SLURM_ARRAY_TASK_MAX: String(max),
  SLURM_ARRAY_TASK_STEP: String(step),
});

describe("--shard auto", () => {
  it("reads a Slurm array task: index ID−MIN of COUNT, also for an array not starting at 0", () => {
    expect(shardFromEnvironment(undefined, slurm(0, 0, 3))).toMatchObject({ source: "slurm", index: 1, count: 4 });
    expect(shardFromEnvironment(undefined, slurm(7, 5, 8))).toMatchObject({ index: 3, count: 4 });
    expect(shardFromEnvironment(4, slurm(8, 5, 8))).toMatchObject({ index: 4, count: 4 });
  });

  it("refuses a Slurm array that is not contiguous, or a count that disagrees with the one given", () => {
    expect(() => shardFromEnvironment(undefined, slurm(2, 0, 6, 2))).toThrow(
      expect.objectContaining({ code: "BM5015" }),
    );
    expect(() => shardFromEnvironment(3, slurm(0, 0, 3))).toThrow(expect.objectContaining({ code: "BM5015" }));
    expect(() => shardFromEnvironment(undefined, { SLURM_ARRAY_TASK_ID: "1" })).toThrow(
      expect.objectContaining({ code: "BM5015" }),
    );
    expect(() => shardFromEnvironment(undefined, { ...slurm(0, 0, 3), SLURM_ARRAY_TASK_ID: "1x" })).toThrow(
      expect.objectContaining({ code: "BM5015" }),
    );
  });

  it("refuses an index outside the count and a count of 0", () => {
    expect(() =>
      shardFromEnvironment(undefined, { ...slurm(0, 0, 3), SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_MAX: "3" }),
    ).toThrow(expect.objectContaining({ code: "BM5015" }));
    expect(() => shardFromEnvironment(4, { JOB_COMPLETION_INDEX: "4" })).toThrow(
      expect.objectContaining({ code: "BM5015" }),
    );
    expect(() => shardFromEnvironment(0, { JOB_COMPLETION_INDEX: "0" })).toThrow(
      expect.objectContaining({ code: "BM5015" }),
    );
    expect(() => resolveShard("auto/0", { JOB_COMPLETION_INDEX: "0" })).toThrow(
      expect.objectContaining({ code: "BM5015" }),
    );
    expect(() =>
      shardFromEnvironment(undefined, { BUILDKITE_PARALLEL_JOB: "3", BUILDKITE_PARALLEL_JOB_COUNT: "3" }),
    ).toThrow(expect.objectContaining({ code: "BM5015" }));
  });

  it("reads a Kubernetes Indexed Job's 0-based index with the count given on the command line, and asks for the count", () => {
    expect(resolveShard("auto/4", { JOB_COMPLETION_INDEX: "0" })).toEqual({ index: 1, count: 4 });
    expect(resolveShard("auto/4", { JOB_COMPLETION_INDEX: "3" })).toEqual({ index: 4, count: 4 });
    expect(() => resolveShard("auto", { JOB_COMPLETION_INDEX: "3" })).toThrow(
      expect.objectContaining({ code: "BM5014", hint: expect.stringContaining("auto/N") }),
    );
  });

  it("reads CI systems through ci-parallel-vars: GitLab 1-based, Buildkite and CircleCI 0-based", () => {
    expect(resolveShard("auto", { GITLAB_CI: "true", CI_NODE_INDEX: "1", CI_NODE_TOTAL: "3" })).toEqual({
      index: 1,
      count: 3,
    });
    expect(resolveShard("auto/3", { GITLAB_CI: "true", CI_NODE_INDEX: "3", CI_NODE_TOTAL: "3" })).toEqual({
      index: 3,
      count: 3,
    });
    expect(resolveShard("auto", { BUILDKITE_PARALLEL_JOB: "0", BUILDKITE_PARALLEL_JOB_COUNT: "2" })).toEqual({
      index: 1,
      count: 2,
    });
    expect(resolveShard("auto", { CIRCLE_NODE_INDEX: "1", CIRCLE_NODE_TOTAL: "2" })).toEqual({ index: 2, count: 2 });
    expect(() => resolveShard("auto", { GITLAB_CI: "true", CI_NODE_INDEX: "0", CI_NODE_TOTAL: "3" })).toThrow(
      expect.objectContaining({ code: "BM5015" }),
    );
  });

  it("says so when no engine gives a shard, and leaves process.env as it was", () => {
    const before = { ...process.env };
    expect(() => resolveShard("auto", {})).toThrow(expect.objectContaining({ code: "BM5014" }));
    resolveShard("auto", { GITLAB_CI: "true", CI_NODE_INDEX: "2", CI_NODE_TOTAL: "3" });
    expect(process.env).toEqual(before);
  });

  it("prefers the innermost engine: a Slurm job started from a GitLab job is the Slurm shard", () => {
    expect(
      shardFromEnvironment(undefined, { ...slurm(1, 0, 1), GITLAB_CI: "true", CI_NODE_INDEX: "3", CI_NODE_TOTAL: "5" }),
    ).toMatchObject({ source: "slurm", index: 2, count: 2 });
  });

  it("still takes i/n as before", () => {
    expect(resolveShard("2/4", {})).toEqual({ index: 2, count: 4 });
    expect(() => resolveShard("0/4", {})).toThrow(expect.objectContaining({ code: "BM5006" }));
  });
});
