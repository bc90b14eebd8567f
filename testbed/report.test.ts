import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execa } from "execa";
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildMatrix, selectShard } from "./matrix.ts";
import { writeReport, readReport, renderJunit, summarizeCases, REPORT_FILES, type TestbedReport } from "./report.ts";
import { mergeReports } from "./testbed.ts";
import { fakeResult, tinyPng } from "./testing/results.ts";
import { reportIdentity } from "./shard-identity.ts";

const stripTimings = (r: TestbedReport) => ({ ...r, cases: r.cases.map(({ timings: _t, ...c }) => c) });

describe("reports", () => {
  let root: string;
  const cases = buildMatrix(
    [
      { kind: "iso", path: "/m/a.iso", images: ["x86", "x64"], drivers: ["e1000"], label: "both" },
      { kind: "usb", path: "/m/b.img", images: ["x64"], drivers: ["e1000"], label: "x64" },
    ],
    undefined,
    ["e1000", "rtl8139"],
  );
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "bm-report-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("merges shard folders into the report an unsharded run writes, timings aside", async () => {
    const whole = join(root, "whole");
    const results = cases.map((c, i) => fakeResult(whole, c, i));
    const unsharded: TestbedReport = {
      schema: 1,
      accel: "tcg",
      shard: null,
      summary: summarizeCases(results),
      cases: results,
      ...reportIdentity(cases),
    };
    await writeReport(whole, unsharded);

    const shardDirs: string[] = [];
    for (let index = 1; index <= 3; index++) {
      const dir = join(root, `shard-${index}`);
      const part = selectShard(cases, { index, count: 3 }).map((c) => fakeResult(dir, c, cases.indexOf(c)));
      await writeReport(dir, {
        schema: 1,
        accel: "tcg",
        shard: { index, count: 3 },
        summary: summarizeCases(part),
        cases: part,
        ...reportIdentity(cases),
      });
      shardDirs.push(dir);
    }
    const merged = await mergeReports(shardDirs.reverse(), join(root, "merged"));
    expect(stripTimings(merged)).toEqual(stripTimings(await readReport(whole)));
    expect(readFileSync(join(root, "merged", results[0].screenshot!))).toEqual(tinyPng());
    await expect(mergeReports([shardDirs[0], shardDirs[0]], join(root, "twice"))).rejects.toMatchObject({
      code: "BM5105",
    });
    await expect(mergeReports([join(root, "nothing")], join(root, "none"))).rejects.toMatchObject({ code: "BM5104" });
  });

  it("writes JUnit XML that an independent parser reads, one failure per mismatch", async () => {
    const dir = join(root, "whole");
    const xml = renderJunit(await readReport(dir));
    // Python's ElementTree is the oracle for well-formedness and the counts.
    const py = `import sys,xml.etree.ElementTree as E
r=E.parse(sys.argv[1]).getroot()
print(r.get('tests'), r.get('failures'), len(r.findall('.//testcase')), len(r.findall('.//failure')), len(r.findall('testsuite')))`;
    writeFileSync(join(root, "j.xml"), xml);
    const { stdout } = await execa("python3", ["-c", py, join(root, "j.xml")]);
    const report = await readReport(dir);
    const mismatched = report.cases.filter((c) => !c.ok).length;
    expect(mismatched).toBeGreaterThan(0);
    const suites = new Set(report.cases.map((c) => c.profile)).size; // one testsuite per machine profile
    expect(suites).toBeGreaterThan(1);
    expect(stdout.trim()).toBe(`${cases.length} ${mismatched} ${cases.length} ${mismatched} ${suites}`);
  });

  it("writes one self-contained HTML page with inlined screenshots and escaped serial text", () => {
    const html = readFileSync(join(root, "whole", REPORT_FILES.html), "utf8");
    expect(html.match(/<img [^>]*src="data:image\/png;base64,/g)).toHaveLength(cases.length);
    expect(html).not.toMatch(/<script|<link|src="(?!data:)/);
    expect(html).toContain("line &lt;0&gt; &amp; &quot;quoted&quot;");
    expect(html).not.toContain("\x1b");
    for (const c of cases) expect(html).toContain(`id="${c.id}"`);
  });
});
