/**
 * `testbed merge`: shard report folders (case folders included) joined into one report with
 * every case of the matrix once. Everything is checked before a byte is written: the shards
 * must come from one run (same bootmedia, same matrix, same shard count), each once; a shard
 * that left no results is an error, or — with `partial` — its cases are reported as not run.
 */
import { cp, mkdir } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { BootmediaError } from "../base/errors.ts";
import { selectShard, sortCases, type Shard } from "./matrix.ts";
import { caseDirOf, type CaseResult } from "./runner.ts";
import { readReport, summarizeCases, writeReport, type NotRunShard, type TestbedReport } from "./report.ts";
import "./codes.ts";

/** @public reachable from the package's API types. */
export interface MergeOptions {
  /** Report a shard without results as not run (exit 1) instead of refusing (BM5109). */
  partial?: boolean;
}

interface ShardReport {
  dir: string;
  report: TestbedReport;
  shard: Shard;
}

export async function mergeReports(dirs: string[], outDir: string, opts: MergeOptions = {}): Promise<TestbedReport> {
  checkOutDir(dirs, outDir);
  const read: ShardReport[] = [];
  const unreadable: Array<{ dir: string; why: string }> = [];
  for (const dir of dirs) {
    try {
      const report = await readReport(dir);
      read.push({ dir, report, shard: report.shard ?? { index: 1, count: 1 } });
    } catch (error) {
      if (!opts.partial)
        throw new BootmediaError("BM5104", `cannot read shard results in ${dir}: ${(error as Error).message}`, {
          where: dir,
          cause: error,
        });
      unreadable.push({
        dir,
        why: (error as NodeJS.ErrnoException).code === "ENOENT" ? "no results.json" : (error as Error).message,
      });
    }
  }
  if (read.length === 0)
    throw new BootmediaError("BM5104", `none of ${dirs.join(", ")} holds shard results`, { where: dirs[0] });
  const { bootmedia, matrix, count } = checkOneRun(read);
  const cases = checkDisjoint(read);
  const notRun = missingShards(read, count, matrix.cases, unreadable, opts.partial === true);

  for (const { dir, report } of read) {
    for (const c of report.cases) {
      await mkdir(join(outDir, "cases"), { recursive: true });
      await cp(join(dir, caseDirOf(c.id)), join(outDir, caseDirOf(c.id)), { recursive: true, force: true }).catch(
        () => undefined,
      );
    }
  }
  const accels = new Set(read.map((r) => r.report.accel));
  const summary = summarizeCases(cases);
  const notRunCount = notRun.reduce((n, s) => n + s.cases.length, 0);
  const report: TestbedReport = {
    schema: 1,
    accel: accels.has("tcg") ? "tcg" : "kvm",
    shard: null,
    summary: notRunCount > 0 ? { ...summary, total: summary.total + notRunCount, notRun: notRunCount } : summary,
    cases: sortCases(cases),
    bootmedia,
    matrix,
    ...(notRun.length > 0 ? { notRun } : {}),
  };
  await writeReport(outDir, report);
  return report;
}

/** The merge must not write into a shard folder (nor a shard folder sit inside the merge's). */
function checkOutDir(dirs: readonly string[], outDir: string): void {
  const out = resolve(outDir);
  const within = (child: string, parent: string) => {
    const r = relative(parent, child);
    return r === "" || (r !== ".." && !r.startsWith(`..${sep}`) && !isAbsolute(r));
  };
  for (const dir of dirs.map((d) => resolve(d))) {
    if (within(out, dir) || within(dir, out)) {
      throw new BootmediaError(
        "BM5108",
        `the merged report would go to ${outDir}, which overlaps the shard folder ${dir}`,
        { where: outDir },
      );
    }
  }
}

/** One bootmedia version, one matrix, one shard count; else BM5107 / BM5106. */
function checkOneRun(read: readonly ShardReport[]): {
  bootmedia: string;
  matrix: NonNullable<TestbedReport["matrix"]>;
  count: number;
} {
  const first = read[0]!;
  for (const r of read) {
    if (!r.report.bootmedia || !r.report.matrix) {
      throw new BootmediaError(
        "BM5107",
        `${r.dir} was written by a bootmedia that records no version or matrix; run that shard again`,
        { where: r.dir },
      );
    }
    if (r.report.bootmedia !== first.report.bootmedia) {
      throw new BootmediaError(
        "BM5107",
        `${first.dir} comes from bootmedia ${first.report.bootmedia}, ${r.dir} from ${r.report.bootmedia}`,
        { where: r.dir },
      );
    }
    if (r.report.matrix.fingerprint !== first.report.matrix!.fingerprint) {
      throw new BootmediaError(
        "BM5106",
        `${first.dir} and ${r.dir} ran different matrices (${first.report.matrix!.cases.length} and ${r.report.matrix.cases.length} cases, or other inputs)`,
        { where: r.dir },
      );
    }
    if (r.shard.count !== first.shard.count) {
      throw new BootmediaError(
        "BM5106",
        `${first.dir} is one of ${first.shard.count} shards, ${r.dir} one of ${r.shard.count}`,
        { where: r.dir },
      );
    }
  }
  return { bootmedia: first.report.bootmedia!, matrix: first.report.matrix!, count: first.shard.count };
}

/** Each shard once, each case once (BM5105). */
function checkDisjoint(read: readonly ShardReport[]): CaseResult[] {
  const shardOwner = new Map<number, string>();
  const caseOwner = new Map<string, string>();
  const cases: CaseResult[] = [];
  for (const r of read) {
    const other = shardOwner.get(r.shard.index);
    if (other)
      throw new BootmediaError("BM5105", `shard ${r.shard.index}/${r.shard.count} is both ${other} and ${r.dir}`);
    shardOwner.set(r.shard.index, r.dir);
    for (const c of r.report.cases) {
      const owner = caseOwner.get(c.id);
      if (owner) throw new BootmediaError("BM5105", `case ${c.id} is in both ${owner} and ${r.dir}`);
      caseOwner.set(c.id, r.dir);
      cases.push(c);
    }
  }
  return cases;
}

/** Shards of the run that no folder answered for: BM5109, or (partial) their cases, not run. */
function missingShards(
  read: readonly ShardReport[],
  count: number,
  matrix: readonly string[],
  unreadable: ReadonlyArray<{ dir: string; why: string }>,
  partial: boolean,
): NotRunShard[] {
  const present = new Set(read.map((r) => r.shard.index));
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !present.has(i));
  if (missing.length === 0) return [];
  if (!partial)
    throw new BootmediaError(
      "BM5109",
      `no results for shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${count}`).join(", ")}`,
    );
  const why =
    unreadable.length > 0
      ? `no readable results in ${unreadable.map((u) => `${u.dir} (${u.why})`).join(", ")}`
      : "no folder of this shard was given to the merge";
  const ids = matrix.map((id) => ({ id }));
  return missing.map((index) => ({
    shard: { index, count },
    cases: selectShard(ids, { index, count }).map((c) => c.id),
    why,
  }));
}
