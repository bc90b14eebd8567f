/**
 * What ties the shards of one run together: the whole matrix (its case ids and predicted
 * verdicts, fingerprinted) and the bootmedia version, written into every shard's report so
 * `testbed merge` can refuse shards of another run and name the cases of a shard that left
 * no results. And a shard's claim on its report folder, so two shards never share one.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../base/errors.ts";
import { PACKAGE_VERSION } from "../base/package-root.ts";
import type { Shard, TestCase } from "./matrix.ts";
import "./codes.ts";

interface MatrixIdentity {
  /** sha256 over the sorted case ids and their predicted verdicts. */
  fingerprint: string;
  /** Every case id of the whole matrix, sorted (not only this shard's). */
  cases: string[];
}

function matrixIdentity(all: ReadonlyArray<Pick<TestCase, "id" | "expected">>): MatrixIdentity {
  const rows = [...all].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((c) => [c.id, c.expected]);
  return {
    fingerprint: createHash("sha256").update(JSON.stringify(rows)).digest("hex"),
    cases: rows.map((r) => r[0] as string),
  };
}

/** The fields every report of this bootmedia carries. */
export function reportIdentity(all: ReadonlyArray<Pick<TestCase, "id" | "expected">>): {
  bootmedia: string;
  matrix: MatrixIdentity;
} {
  return { bootmedia: PACKAGE_VERSION, matrix: matrixIdentity(all) };
}

/** The claim file a sharded run leaves in its report folder (never copied into a merge). */
export const SHARD_CLAIM = "shard.json";

interface Claim {
  shard: Shard;
  fingerprint: string;
}

/**
 * Claims `dir` for `shard` of the matrix `fingerprint`, created exclusively so that of two
 * shards started on one folder exactly one wins. The same shard of the same matrix may claim
 * it again (a retried array task); any other claim is BM5108, before anything is written.
 */
export async function claimShardDir(dir: string, shard: Shard, fingerprint: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const claim: Claim = { shard, fingerprint };
  const file = join(dir, SHARD_CLAIM);
  try {
    await writeFile(file, JSON.stringify(claim) + "\n", { flag: "wx" });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  let held: Claim | undefined;
  try {
    held = JSON.parse(await readFile(file, "utf8")) as Claim;
  } catch {
    // A claim being written this very moment reads as empty: it is still someone else's.
  }
  if (held?.shard?.index === shard.index && held.shard.count === shard.count && held.fingerprint === fingerprint)
    return;
  const whose = held?.shard
    ? `shard ${held.shard.index}/${held.shard.count}${held.fingerprint === fingerprint ? "" : " of another matrix"}`
    : "another shard";
  throw new BootmediaError(
    "BM5108",
    `report folder ${dir} is already used by ${whose}; shard ${shard.index}/${shard.count} needs its own`,
    { where: dir },
  );
}
