/**
 * Property: for every shard count 1..64, the shards each engine's processes pick (from the
 * variables the engine sets for index 0..N-1, or GitHub's matrix value) are pairwise disjoint,
 * cover the matrix, and differ in size by at most one — on random matrices in random order
 * (a seeded generator, so a failure names the seed and replays).
 */
import { describe, it, expect } from "vitest";
import { selectShard, type Shard } from "../matrix.ts";
import { makeRandom as random } from "../../formats/testing/random.ts";
import { resolveShard } from "./shard-env.ts";

function randomMatrix(rand: () => number): Array<{ id: string }> {
  const size = Math.floor(rand() * 300);
  const ids = new Set<string>();
  while (ids.size < size)
    ids.add(`p${Math.floor(rand() * 8)}.m${Math.floor(rand() * 1e6).toString(36)}.n${Math.floor(rand() * 5)}`);
  const cases = [...ids].map((id) => ({ id }));
  for (let i = cases.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [cases[i], cases[j]] = [cases[j]!, cases[i]!];
  }
  return cases;
}

/** What shard process k (0-based) of n gets from each engine. */
const ENGINES: Record<string, (k: number, n: number) => Shard> = {
  slurm: (k, n) =>
    resolveShard("auto", {
      SLURM_ARRAY_TASK_ID: String(k),
      SLURM_ARRAY_TASK_COUNT: String(n),
      SLURM_ARRAY_TASK_MIN: "0",
      SLURM_ARRAY_TASK_MAX: String(n - 1),
      SLURM_ARRAY_TASK_STEP: "1",
    }),
  "slurm from 1": (k, n) =>
    resolveShard("auto", {
      SLURM_ARRAY_TASK_ID: String(k + 1),
      SLURM_ARRAY_TASK_COUNT: String(n),
      SLURM_ARRAY_TASK_MIN: "1",
      SLURM_ARRAY_TASK_MAX: String(n),
    }),
  kubernetes: (k, n) => resolveShard(`auto/${n}`, { JOB_COMPLETION_INDEX: String(k) }),
  gitlab: (k, n) =>
    resolveShard(`auto/${n}`, { GITLAB_CI: "true", CI_NODE_INDEX: String(k + 1), CI_NODE_TOTAL: String(n) }),
  buildkite: (k, n) =>
    resolveShard("auto", { BUILDKITE_PARALLEL_JOB: String(k), BUILDKITE_PARALLEL_JOB_COUNT: String(n) }),
  github: (k, n) => resolveShard(`${k + 1}/${n}`, {}),
};

describe("shards cover the matrix", () => {
  it.each(Object.keys(ENGINES))("%s: disjoint and covering for every count 1..64", (engine) => {
    for (let count = 1; count <= 64; count++) {
      // What each of the n processes reads from its environment does not depend on the matrix.
      const picked = Array.from({ length: count }, (_, k) => ENGINES[engine]!(k, count));
      for (let trial = 0; trial < 3; trial++) {
        const seed = count * 1000 + trial;
        const matrix = randomMatrix(random(seed));
        const owner = new Map<string, number>();
        const sizes: number[] = [];
        const twice: string[] = [];
        for (let k = 0; k < count; k++) {
          const mine = selectShard(matrix, picked[k]!);
          sizes.push(mine.length);
          for (const c of mine) {
            if (owner.has(c.id)) twice.push(c.id);
            owner.set(c.id, k);
          }
        }
        // One assertion per trial (not per case) keeps 64 × 3 trials × 6 engines fast.
        expect({
          seed,
          picked,
          twice,
          covered: owner.size,
          spread: Math.max(...sizes) - Math.min(...sizes) <= 1,
        }).toEqual({
          seed,
          picked: Array.from({ length: count }, (_, k) => ({ index: k + 1, count })),
          twice: [],
          covered: matrix.length,
          spread: true,
        });
      }
    }
  });
});
