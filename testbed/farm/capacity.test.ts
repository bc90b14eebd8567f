import { describe, it, expect } from "vitest";
import { estimateCases, listSchedule, predictFarm, shardCounts } from "./capacity.ts";
import type { CaseResult } from "../runner.ts";

const recorded = (times: Record<string, number>) => ({
  cases: Object.entries(times).map(
    ([id, ms]) =>
      ({
        id,
        profile: id.slice(0, id.indexOf(".")),
        timings: { firstSerialMs: null, verdictMs: ms, totalMs: ms },
      }) as unknown as CaseResult,
  ),
});

describe("capacity plan", () => {
  it("schedules jobs in order on the slot that frees first", () => {
    expect(listSchedule([5, 3, 3, 1], 1)).toBe(12);
    expect(listSchedule([5, 3, 3, 1], 2)).toBe(6); // 5 | 3 3 → slot 2 at 6, then 1 on slot 1 at 6
    expect(listSchedule([], 3)).toBe(0);
  });

  it("takes each case's own time, else its profile's mean, else the run's", () => {
    const est = estimateCases(
      ["a.m.e1000", "a.new.e1000", "b.new.e1000"],
      recorded({ "a.m.e1000": 10, "a.x.e1000": 20, "c.m.e1000": 60 }),
    )!;
    expect(est).toEqual([
      { id: "a.m.e1000", ms: 10, from: "case" },
      { id: "a.new.e1000", ms: 15, from: "profile" },
      { id: "b.new.e1000", ms: 30, from: "run" },
    ]);
    expect(estimateCases(["a.m.e1000"], { cases: [] })).toBeUndefined();
  });

  it("predicts the wall time of N shards, K at once, C cases each at once, worked out by hand", () => {
    // Sorted ids a..f; 2 shards take a,c,e and b,d,f.
    const cases = ["a", "b", "c", "d", "e", "f"].map((id, i) => ({
      id: `${id}.m.n`,
      ms: [10, 20, 30, 40, 50, 60][i]!,
      from: "case" as const,
    }));
    expect(predictFarm(cases, 2, 2, 1, 0)).toMatchObject({ wallMs: 120, longestShardMs: 120, shardMs: 210, cores: 2 });
    expect(predictFarm(cases, 2, 1, 1, 0)).toMatchObject({ wallMs: 210 });
    // Two cases at once in shard 2: b(20) | d(40), f(60) after b → 80.
    expect(predictFarm(cases, 2, 2, 2, 0)).toMatchObject({ wallMs: 80, cores: 4 });
    expect(predictFarm(cases, 2, 2, 1, 5)).toMatchObject({ wallMs: 125 });
    expect(shardCounts(6)).toEqual([1, 2, 4, 6]);
  });
});
