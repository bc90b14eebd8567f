/**
 * The testbed's report: results.json (the source of truth, what `merge` reads), JUnit XML
 * for CI, and one self-contained HTML page. Cases are always in id order, so a merged
 * report equals an unsharded one except for timings.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CaseResult } from "./runner.ts";
import { describeOutcome } from "./verdict.ts";
import { renderHtml } from "./report-html.ts";
import { escapeXml, type NotRunShard, type TestbedReport } from "./report-model.ts";

export { type NotRunShard, type TestbedReport };

export const REPORT_FILES = { json: "results.json", junit: "junit.xml", html: "index.html" } as const;

export function summarizeCases(cases: readonly CaseResult[]): TestbedReport["summary"] {
  const ok = cases.filter((c) => c.ok).length;
  return { total: cases.length, ok, mismatched: cases.length - ok };
}

/** Writes all three files into `dir` (which also holds the per-case folders). */
export async function writeReport(dir: string, report: TestbedReport): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, REPORT_FILES.json), JSON.stringify(report, null, 2) + "\n");
  await writeFile(join(dir, REPORT_FILES.junit), renderJunit(report));
  await writeFile(join(dir, REPORT_FILES.html), await renderHtml(report, dir));
}

export async function readReport(dir: string): Promise<TestbedReport> {
  return JSON.parse(await readFile(join(dir, REPORT_FILES.json), "utf8")) as TestbedReport;
}

/** The profile part of a case id (`<profile>.<media label>.<nic>`; profile ids hold no dot). */
const profileOf = (id: string) => id.slice(0, id.indexOf("."));

/**
 * JUnit XML as Jenkins/GitLab/GitHub reporters read it: one testsuite per profile. A case of
 * a shard that left no results is an `<error>` (it was never judged), never left out.
 */
export function renderJunit(report: TestbedReport): string {
  const byProfile = new Map<string, CaseResult[]>();
  const notRun = new Map<string, Array<{ id: string; shard: NotRunShard }>>();
  for (const c of report.cases) byProfile.set(c.profile, [...(byProfile.get(c.profile) ?? []), c]);
  for (const shard of report.notRun ?? [])
    for (const id of shard.cases) notRun.set(profileOf(id), [...(notRun.get(profileOf(id)) ?? []), { id, shard }]);
  const profiles = [...new Set([...byProfile.keys(), ...notRun.keys()])].sort();
  const suites = profiles.map((profile) => {
    const cases = byProfile.get(profile) ?? [];
    const missing = notRun.get(profile) ?? [];
    const failures = cases.filter((c) => !c.ok).length;
    const time = cases.reduce((t, c) => t + c.timings.totalMs, 0) / 1000;
    const errors = missing.map(({ id, shard }) => {
      const msg = `not run: shard ${shard.shard.index}/${shard.shard.count} left no results`;
      return {
        id,
        xml: `    <testcase classname="testbed.${escapeXml(profile)}" name="${escapeXml(id)}" time="0.000">\n      <error message="${escapeXml(msg)}" type="shard-failed">${escapeXml(shard.why)}</error>\n    </testcase>`,
      };
    });
    const body = cases.map((c) => ({ id: c.id, xml: caseXml(profile, c) }));
    const all = [...body, ...errors].sort((a, b) => (a.id < b.id ? -1 : 1)).map((t) => t.xml);
    return `  <testsuite name="testbed.${escapeXml(profile)}" tests="${cases.length + missing.length}" failures="${failures}" errors="${missing.length}" time="${time.toFixed(3)}">\n${all.join("\n")}\n  </testsuite>`;
  });
  const s = report.summary;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bootmedia testbed" tests="${s.total}" failures="${s.mismatched}" errors="${s.notRun ?? 0}">\n${suites.join("\n")}\n</testsuites>\n`;
}

function caseXml(profile: string, c: CaseResult): string {
  const head = `    <testcase classname="testbed.${escapeXml(profile)}" name="${escapeXml(c.id)}" time="${(c.timings.totalMs / 1000).toFixed(3)}"`;
  const out = `      <system-out>expected ${escapeXml(describeOutcome(c.expected))}; actual ${escapeXml(describeOutcome(c.actual))}; serial log ${escapeXml(c.serialLog)}</system-out>`;
  if (c.ok) return `${head}>\n${out}\n    </testcase>`;
  const detail = c.actual.status === "fail" ? c.actual.detail : "the media booted";
  const msg = `expected ${describeOutcome(c.expected)}, got ${describeOutcome(c.actual)}`;
  return `${head}>\n      <failure message="${escapeXml(msg)}" type="verdict-mismatch">${escapeXml(detail)}</failure>\n${out}\n    </testcase>`;
}
