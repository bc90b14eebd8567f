/**
 * Soak: writes >= 200 seeded random trees (SOAK_TREES to change) and checks each against
 * xorriso extraction and `isoinfo -R` listing. Prints the failing seeds; exit 1 if any.
 * Run: npm run soak:iso
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareExtracted, createRandom, extractWithXorriso, generateTree, isoinfoList } from "../testing/testkit.ts";
import { writeIso } from "../write.ts";

const COUNT = Number(process.env.SOAK_TREES ?? 200);
const FIRST_SEED = Number(process.env.SOAK_SEED ?? 1000);
const work = await mkdtemp(join(tmpdir(), "bm-iso-soak-"));
const failures: string[] = [];
for (let seed = FIRST_SEED; seed < FIRST_SEED + COUNT; seed++) {
  const rnd = createRandom(seed);
  const tree = await generateTree(seed, {
    files: 1 + Math.floor(rnd() * 300),
    maxSize: 50_000,
    deepChain: rnd() < 0.3 ? 9 + Math.floor(rnd() * 6) : 0,
  });
  const iso = join(work, "soak.iso");
  try {
    await writeIso(tree.entries, { volumeId: `SOAK_${seed}`, sourceDateEpoch: seed * 1000 }, iso);
    const x = await extractWithXorriso(iso);
    const problems = await compareExtracted(x.dir, tree).finally(() => x.cleanup());
    const expected = [...tree.contents.keys(), ...[...tree.dirs].filter(Boolean)].sort();
    const listed = (await isoinfoList(iso, "-R")).sort();
    if (JSON.stringify(listed) !== JSON.stringify(expected)) problems.push("isoinfo -R listing differs");
    if (problems.length) failures.push(`seed ${seed}: ${problems.slice(0, 5).join("; ")}`);
  } catch (e) {
    failures.push(`seed ${seed}: ${(e as Error).message}`);
  } finally {
    await tree.cleanup();
  }
  if ((seed - FIRST_SEED + 1) % 20 === 0)
    console.log(`${seed - FIRST_SEED + 1}/${COUNT} trees, ${failures.length} failing`);
}
await rm(work, { recursive: true, force: true });
for (const f of failures) console.log(f);
console.log(`soak: ${COUNT} trees, ${failures.length} failing`);
process.exitCode = failures.length ? 1 : 0;
