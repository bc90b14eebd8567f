/**
 * Merging shard reports: shards of another run, another bootmedia, the same shard twice, a
 * merge into a shard's own folder and a missing shard are coded errors that write nothing;
 * `partial` reports a missing shard's cases as not run (JUnit read by Python's ElementTree).
 * Two shards claiming one report folder: exactly one wins.
 */
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { execa } from "execa";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildMatrix, selectShard, type TestCase } from "./matrix.ts";
import { summarizeCases, writeReport, REPORT_FILES, type TestbedReport } from "./report.ts";
import { mergeReports } from "./shard-merge.ts";
import { claimShardDir, reportIdentity, SHARD_CLAIM } from "./shard-identity.ts";
import { fakeResult } from "./testing/results.ts";

const media = [
  { kind: "iso" as const, path: "/m/a.iso", images: ["x86", "x64"] as const, drivers: ["e1000"], label: "both" },
  { kind: "usb" as const, path: "/m/b.img", images: ["x64"] as const, drivers: ["e1000"], label: "x64" },
].map((m) => ({ ...m, images: [...m.images] }));
const cases = buildMatrix(media, ["x86-bios", "x64-bios", "x64-uefi"], ["e1000", "rtl8139"]);

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "bm-merge-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Shard `index` of `count` of `all` written into `<root>/<name>`, as a run leaves it. */
async function shardDir(
  name: string,
  index: number,
  count: number,
  all: readonly TestCase[] = cases,
  patch: Partial<TestbedReport> = {},
): Promise<string> {
  const dir = join(root, name);
  const part = selectShard(all, { index, count }).map((c) => fakeResult(dir, c, all.indexOf(c)));
  await writeReport(dir, {
    schema: 1,
    accel: "tcg",
    shard: { index, count },
    summary: summarizeCases(part),
    cases: part,
    ...reportIdentity(all),
    ...patch,
  });
  return dir;
}

async function expectNothingWritten(run: Promise<unknown>, code: string, out: string): Promise<void> {
  await expect(run).rejects.toMatchObject({ code, hint: expect.any(String) });
  expect(existsSync(out), `${out} exists after ${code}`).toBe(false);
}

describe("mergeReports refuses shards that are not one run, writing nothing", () => {
  it("refuses shards of different matrices (other NICs) and of different shard counts: BM5106", async () => {
    const other = buildMatrix(media, ["x86-bios", "x64-bios", "x64-uefi"], ["e1000"]);
    const out = join(root, "out");
    await expectNothingWritten(
      mergeReports([await shardDir("a", 1, 2), await shardDir("b", 2, 2, other)], out),
      "BM5106",
      out,
    );
    await expectNothingWritten(
      mergeReports([await shardDir("c", 1, 2), await shardDir("d", 2, 3)], out),
      "BM5106",
      out,
    );
  });

  it("refuses shards of different bootmedia versions, or of a bootmedia that recorded none: BM5107", async () => {
    const out = join(root, "out");
    await expectNothingWritten(
      mergeReports([await shardDir("a", 1, 2), await shardDir("b", 2, 2, cases, { bootmedia: "0.0.1" })], out),
      "BM5107",
      out,
    );
    await expectNothingWritten(
      mergeReports([await shardDir("c", 1, 2), await shardDir("d", 2, 2, cases, { bootmedia: undefined })], out),
      "BM5107",
      out,
    );
  });

  it("refuses the same shard twice (BM5105) and a merge into a shard's own folder (BM5108)", async () => {
    const out = join(root, "out");
    const a = await shardDir("a", 1, 2);
    await expectNothingWritten(
      mergeReports([a, await shardDir("a2", 1, 2), await shardDir("b", 2, 2)], out),
      "BM5105",
      out,
    );
    const before = readFileSync(join(a, REPORT_FILES.json), "utf8");
    await expect(mergeReports([a, join(root, "b")], a)).rejects.toMatchObject({ code: "BM5108" });
    await expect(mergeReports([a, join(root, "b")], join(a, "merged"))).rejects.toMatchObject({ code: "BM5108" });
    expect(readFileSync(join(a, REPORT_FILES.json), "utf8")).toBe(before);
  });

  it("refuses a missing shard (BM5109) and an unreadable folder (BM5104) unless partial", async () => {
    const out = join(root, "out");
    await expectNothingWritten(
      mergeReports([await shardDir("a", 1, 3), await shardDir("c", 3, 3)], out),
      "BM5109",
      out,
    );
    await expectNothingWritten(
      mergeReports([join(root, "a"), join(root, "nothing"), join(root, "c")], out),
      "BM5104",
      out,
    );
  });
});

describe("a partial merge", () => {
  it("reports every case once: the missing shard's as not run, in results.json, JUnit and HTML", async () => {
    const out = join(root, "out");
    const merged = await mergeReports(
      [await shardDir("a", 1, 3), join(root, "b-crashed"), await shardDir("c", 3, 3)],
      out,
      { partial: true },
    );
    const missing = selectShard(cases, { index: 2, count: 3 }).map((c) => c.id);
    expect(merged.notRun).toEqual([
      { shard: { index: 2, count: 3 }, cases: missing, why: expect.stringContaining("b-crashed") },
    ]);
    expect(merged.summary).toMatchObject({ total: cases.length, notRun: missing.length });
    // Python's ElementTree: every case once; the missing shard's an <error>, counted on the root.
    const py = `import sys,xml.etree.ElementTree as E
r=E.parse(sys.argv[1]).getroot()
names=[t.get('name') for t in r.iter('testcase')]
errors=sorted(t.get('name') for t in r.iter('testcase') if t.find('error') is not None)
print(r.get('tests'), r.get('errors'), len(names), len(set(names)), ' '.join(errors))`;
    const { stdout } = await execa("python3", ["-c", py, join(out, REPORT_FILES.junit)]);
    expect(stdout.trim()).toBe(
      `${cases.length} ${missing.length} ${cases.length} ${cases.length} ${[...missing].sort().join(" ")}`,
    );
    const html = readFileSync(join(out, REPORT_FILES.html), "utf8");
    expect(html).toContain("Shards without results");
    expect(html).toContain(`${missing.length} not run`);
    // The merged folder holds the merged report and the shards' case folders, never a claim.
    expect((await readdir(out)).sort()).toEqual(
      ["cases", REPORT_FILES.html, REPORT_FILES.junit, REPORT_FILES.json].sort(),
    );
  });

  it("still refuses when no folder holds results at all", async () => {
    await expect(
      mergeReports([join(root, "x"), join(root, "y")], join(root, "out"), { partial: true }),
    ).rejects.toMatchObject({ code: "BM5104" });
  });
});

describe("claimShardDir", () => {
  it("lets exactly one of two shards started on one folder have it, and the same shard again", async () => {
    const dir = join(root, "shared");
    const { fingerprint } = reportIdentity(cases).matrix;
    const outcomes = await Promise.allSettled([
      claimShardDir(dir, { index: 1, count: 2 }, fingerprint),
      claimShardDir(dir, { index: 2, count: 2 }, fingerprint),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(outcomes.find((o) => o.status === "rejected")).toMatchObject({ reason: { code: "BM5108" } });
    const held = JSON.parse(readFileSync(join(dir, SHARD_CLAIM), "utf8"));
    await expect(claimShardDir(dir, held.shard, fingerprint)).resolves.toBeUndefined();
    await expect(claimShardDir(dir, held.shard, "another matrix")).rejects.toMatchObject({ code: "BM5108" });
    expect(JSON.parse(readFileSync(join(dir, SHARD_CLAIM), "utf8"))).toEqual(held);
  });
});
