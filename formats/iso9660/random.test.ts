import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readIso } from "./read.ts";
import {
  compareExtracted,
  extractWithXorriso,
  generateTree,
  isoinfoList,
  type RandomTreeOptions,
} from "./testing/testkit.ts";
import { writeIso } from "./write.ts";

/** A handful of seeded trees here; `npm run soak:iso` runs hundreds. */
const CASES: [number, RandomTreeOptions][] = [
  [1, { files: 40, deepChain: 12 }],
  [2, { files: 2000, maxSize: 600 }],
  [3, { files: 25, maxSize: 300_000, deepChain: 9 }],
];

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-iso-rand-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("random trees read back intact", () => {
  it.each(CASES)(
    "seed %i",
    async (seed, opts) => {
      const tree = await generateTree(seed, opts);
      const iso = join(work, `t${seed}.iso`);
      try {
        await writeIso(tree.entries, { volumeId: `SEED_${seed}`, sourceDateEpoch: 86_400 * seed }, iso);
        const x = await extractWithXorriso(iso);
        try {
          expect(await compareExtracted(x.dir, tree)).toEqual([]);
        } finally {
          await x.cleanup();
        }
        const expected = [...tree.contents.keys(), ...[...tree.dirs].filter(Boolean)].sort();
        expect((await isoinfoList(iso, "-R")).sort()).toEqual(expected);
        expect((await readIso(iso)).files.map((f) => f.path).sort()).toEqual(expected);
      } finally {
        await tree.cleanup();
      }
    },
    120_000,
  );
});
