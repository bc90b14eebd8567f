/**
 * The testbed's report: results.json (the source of truth, what `merge` reads), JUnit XML
 * for CI, and one self-contained HTML page. Cases are always in id order, so a merged
 * report equals an unsharded one except for timings.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Accel } from "./profiles.ts";
import type { Shard } from "./matrix.ts";
import type { CaseResult } from "./runner.ts";
import { describeOutcome } from "./verdict.ts";
import { renderHtml } from "./report-html.ts";
import { escapeXml, type TestbedReport } from "./report-model.ts";

export { escapeXml, type TestbedReport };

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

/** JUnit XML as Jenkins/GitLab/GitHub reporters read it: one testsuite per profile. */
export function renderJunit(report: TestbedReport): string {
  const byProfile = new Map<string, CaseResult[]>();
  for (const c of report.cases) byProfile.set(c.profile, [...(byProfile.get(c.profile) ?? []), c]);
  const suites = [...byProfile].map(([profile, cases]) => {
    const failures = cases.filter((c) => !c.ok).length;
    const time = cases.reduce((t, c) => t + c.timings.totalMs, 0) / 1000;
    const body = cases.map((c) => {
      const head = `    <testcase classname="testbed.${escapeXml(profile)}" name="${escapeXml(c.id)}" time="${(c.timings.totalMs / 1000).toFixed(3)}"`;
      const out = `      <system-out>expected ${escapeXml(describeOutcome(c.expected))}; actual ${escapeXml(describeOutcome(c.actual))}; serial log ${escapeXml(c.serialLog)}</system-out>`;
      if (c.ok) return `${head}>\n${out}\n    </testcase>`;
      const detail = c.actual.status === "fail" ? c.actual.detail : "the media booted";
      const msg = `expected ${describeOutcome(c.expected)}, got ${describeOutcome(c.actual)}`;
      return `${head}>\n      <failure message="${escapeXml(msg)}" type="verdict-mismatch">${escapeXml(detail)}</failure>\n${out}\n    </testcase>`;
    });
    return `  <testsuite name="testbed.${escapeXml(profile)}" tests="${cases.length}" failures="${failures}" errors="0" time="${time.toFixed(3)}">\n${body.join("\n")}\n  </testsuite>`;
  });
  const s = report.summary;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bootmedia testbed" tests="${s.total}" failures="${s.mismatched}">\n${suites.join("\n")}\n</testsuites>\n`;
}
