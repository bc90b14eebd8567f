import { closeSync, openSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TreeEntry } from "../../base/tree.ts";
import { adoptEarlyCopy, startEarlyCopy } from "./early-copy.ts";
import { guessFatData, planFat } from "./plan.ts";
import { generateRandomTree } from "./testing/random-tree.ts";

const EPOCH = 1700000000;
const MIB = 2 ** 20;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-fat-early-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const sized = (path: string, size: number): TreeEntry => ({
  type: "file",
  path,
  size,
  source: { kind: "file", path: "/dev/null" },
});

describe("guessFatData (file places before the tree is named)", () => {
  it.each([1, 2, 3, 4, 5, 6])("gives planFat's places for random tree %i, sized or not", async (seed) => {
    const tree = await generateRandomTree(seed, join(work, `t${seed}`), { maxFiles: 150 });
    for (const sizeBytes of [undefined, 600 * MIB]) {
      const opts = { sourceDateEpoch: EPOCH, fatType: 32 as const, sizeBytes };
      const guess = guessFatData(tree.entries, opts)!;
      const plan = planFat(tree.entries, opts);
      expect(guess.geometry.firstDataSector).toBe(plan.firstDataSector);
      expect(guess.files.map((f) => [f.source, f.size, f.firstCluster, f.clusters])).toEqual(
        plan.files.map((f) => [f.source, f.size, f.firstCluster, f.clusters]),
      );
    }
  });

  it("orders folder by folder, as the tree walk does ('a/b' before 'a-c', 'a b/x' after 'a')", () => {
    const entries = ["a-c", "a/b", "a b/x", "a/a/z", "Z", "é"].map((p, i) => sized(p, (i + 1) * 5000));
    const opts = { sourceDateEpoch: EPOCH, fatType: 32 as const, sizeBytes: 600 * MIB };
    const guess = guessFatData(entries, opts)!;
    expect(guess.files.map((f) => f.size)).toEqual(planFat(entries, opts).files.map((f) => f.size));
  });

  it("does not guess where planFat must refuse first, or where the FAT type depends on the content", () => {
    const opts = { sourceDateEpoch: EPOCH, sizeBytes: 600 * MIB };
    expect(guessFatData([sized("big.wim", 2 ** 32)], opts)).toBeUndefined();
    expect(guessFatData([sized("a", 400 * MIB), sized("b", 400 * MIB)], opts)).toBeUndefined();
    expect(guessFatData([sized("a", MIB)], { sourceDateEpoch: EPOCH, sizeBytes: 64 * MIB })).toBeUndefined();
    expect(guessFatData([sized("../a", MIB)], opts)).toBeUndefined();
  });
});

describe("adoptEarlyCopy", () => {
  it("keeps a copy that matches the plan, and stops and empties the file when it does not", async () => {
    const src = join(work, "payload.bin");
    await writeFile(src, Buffer.alloc(3 * MIB, 7));
    const entries: TreeEntry[] = [
      { type: "file", path: "x/payload.bin", size: 3 * MIB, source: { kind: "file", path: src } },
    ];
    const out = join(work, "early.img");
    const fd = openSync(out, "w");
    try {
      const opts = { sourceDateEpoch: EPOCH, fatType: 32 as const, sizeBytes: 600 * MIB };
      const same = await adoptEarlyCopy(startEarlyCopy(entries, opts, fd, 0), planFat(entries, opts), fd, 0);
      expect(same).toBeDefined();
      expect(await same!.copy.done).toBeUndefined();
      // A plan of another size puts the data elsewhere: the early copy must not survive.
      const early = startEarlyCopy(entries, opts, fd, 0)!;
      const other = await adoptEarlyCopy(early, planFat(entries, { ...opts, sizeBytes: 900 * MIB }), fd, 0);
      expect(other).toBeUndefined();
      expect(await early.copy.done).toSatisfy(
        (f: unknown) => f === undefined || (f as { kind: string }).kind === "cancelled",
      );
      expect(statSync(out).size).toBe(0);
    } finally {
      closeSync(fd);
    }
  });
});
