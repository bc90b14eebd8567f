/**
 * Soak: seeded random trees written as USB disk images; each checked with sfdisk, sgdisk,
 * fsck.fat and mtools (at the partition offset). Usage: tsx formats/disk/bench/soak.ts [images=50]
 */
import { execa } from "execa";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeUsbImage, PARTITION_START_LBA } from "../usb.ts";
import { checkWithFsck, compareExtracted, extractWithMtools, listWithMtools } from "../../fat/testing/oracles.ts";
import { generateRandomTree } from "../../fat/testing/random-tree.ts";

async function soakOneImage(seed: number, work: string): Promise<string[]> {
  const tree = await generateRandomTree(seed, join(work, `t${seed}`), { maxFiles: 60 });
  const out = join(work, `d${seed}.img`);
  const offset = PARTITION_START_LBA * 512;
  try {
    const plan = await writeUsbImage(tree.entries, { sourceDateEpoch: 1_600_000_000 + seed, label: "SOAK" }, out);
    const problems: string[] = [];
    const sg = await execa("sgdisk", ["-v", out], { reject: false });
    if (!sg.stdout.includes("No problems found")) problems.push(`sgdisk: ${sg.stdout}`);
    const part = JSON.parse((await execa("sfdisk", ["--json", out])).stdout).partitiontable.partitions[0];
    if (part.start !== PARTITION_START_LBA || part.type !== "c" || !part.bootable)
      problems.push(`sfdisk: ${JSON.stringify(part)}`);
    const fsck = await checkWithFsck(out, offset, plan.fat.totalBytes);
    if (!fsck.ok) problems.push(`fsck.fat: ${fsck.output}`);
    const dir = await extractWithMtools(out, offset);
    problems.push(...(await compareExtracted(tree.entries, dir, await listWithMtools(out, offset))));
    await rm(dir, { recursive: true, force: true });
    return problems.map((p) => `seed ${seed}: ${p}`);
  } finally {
    await rm(join(work, `t${seed}`), { recursive: true, force: true });
    await rm(out, { force: true });
  }
}

const images = Number(process.argv[2] ?? 50);
const work = await mkdtemp(join(tmpdir(), "bm-disk-soak-"));
const failures: string[] = [];
try {
  for (let seed = 5000; seed < 5000 + images; seed++) {
    const problems = await soakOneImage(seed, work).catch((e: Error) => [`seed ${seed}: ${e.stack ?? e}`]);
    if (problems.length) console.log(problems.join("\n"));
    failures.push(...problems);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
console.log(`soak:disk ${images} images, ${failures.length} problems`);
process.exitCode = failures.length ? 1 : 0;
