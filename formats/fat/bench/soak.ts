/**
 * Soak: many seeded random trees, each written as FAT12/16/32 and checked with fsck.fat and
 * mtools. Usage: tsx formats/fat/bench/soak.ts [trees=200] [firstSeed=1000]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFat } from "../write.ts";
import { FAT_TYPES } from "../structures.ts";
import { checkWithFsck, compareExtracted, extractWithMtools, listWithMtools } from "../testing/oracles.ts";
import { generateRandomTree } from "../testing/random-tree.ts";

async function soakOneTree(seed: number, work: string): Promise<string[]> {
  const fatType = FAT_TYPES[seed % 3];
  const tree = await generateRandomTree(seed, join(work, `t${seed}`), {
    maxFiles: 80,
    maxFileBytes: fatType === 12 ? 20_000 : 500_000,
  });
  const out = join(work, `t${seed}.img`);
  try {
    await writeFat(
      tree.entries,
      { sourceDateEpoch: 1_600_000_000 + seed, label: `SOAK${seed}`.slice(0, 11), fatType },
      out,
    );
    const fsck = await checkWithFsck(out);
    const problems = fsck.ok ? [] : [`fsck.fat: ${fsck.output}`];
    const dir = await extractWithMtools(out);
    problems.push(...(await compareExtracted(tree.entries, dir, await listWithMtools(out))));
    await rm(dir, { recursive: true, force: true });
    return problems.map((p) => `seed ${seed} FAT${fatType}: ${p}`);
  } finally {
    await rm(join(work, `t${seed}`), { recursive: true, force: true });
    await rm(out, { force: true });
  }
}

const trees = Number(process.argv[2] ?? 200);
const first = Number(process.argv[3] ?? 1000);
const work = await mkdtemp(join(tmpdir(), "bm-fat-soak-"));
const failures: string[] = [];
const started = Date.now();
try {
  for (let seed = first; seed < first + trees; seed++) {
    const problems = await soakOneTree(seed, work).catch((e: Error) => [`seed ${seed}: ${e.stack ?? e}`]);
    failures.push(...problems);
    if (problems.length) console.log(problems.join("\n"));
    if ((seed - first + 1) % 20 === 0)
      console.log(
        `${seed - first + 1}/${trees} trees, ${failures.length} problems, ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
console.log(`soak:fat ${trees} trees, ${failures.length} problems`);
process.exitCode = failures.length ? 1 : 0;
