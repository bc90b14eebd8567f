/**
 * Ends every test run with the plain line "N passed, N failed" (counted like .ci/count.mjs:
 * failed tests plus failed files and suites, so a broken beforeAll is never a quiet pass),
 * then every skipped test with its reason: `ctx.skip(condition, reason)` in the test, or the
 * failed set-up that took it down. A skip that gives no reason says so.
 */
import type { Reporter, TestCase, TestModule, Vitest } from "vitest/node";
import { relative } from "node:path";

function skipReason(test: TestCase): string {
  const result = test.result();
  if (result.state === "skipped" && result.note) return result.note;
  // A hook's error sits on the suite or file it belongs to (a failed child only marks them failed).
  for (let p: TestCase["parent"] | undefined = test.parent; p; p = p.type === "suite" ? p.parent : undefined) {
    if (p.errors().length > 0)
      return `not run: ${p.type === "suite" ? `suite "${p.name}"` : "its file"} failed to set up (${String(p.errors()[0]?.message ?? "").split("\n")[0]})`;
  }
  return "no reason given (skip with ctx.skip(condition, reason))";
}

export default class SummaryReporter implements Reporter {
  /** `-t PATTERN`: the tests it leaves out are counted, not listed as skips. */
  private namePattern: RegExp | undefined;

  onInit(vitest: Vitest): void {
    this.namePattern = vitest.config.testNamePattern;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    const skipped: string[] = [];
    let filtered = 0;
    for (const m of testModules) {
      if (m.state() === "failed") failed++;
      for (const s of m.children.allSuites()) if (s.state() === "failed") failed++;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else if (this.namePattern && !this.namePattern.test(t.fullName.replaceAll(" > ", " ")))
          filtered++; // vitest matches names joined by spaces
        else skipped.push(`  ${relative(process.cwd(), m.moduleId)} > ${t.fullName} — ${skipReason(t)}`);
      }
    }
    const lines = [`${passed} passed, ${failed} failed`];
    if (skipped.length) lines.push(`skipped (${skipped.length}):`, ...skipped);
    if (filtered) lines.push(`(${filtered} tests left out by -t ${this.namePattern})`);
    process.stdout.write(`\n${lines.join("\n")}\n`);
  }
}
