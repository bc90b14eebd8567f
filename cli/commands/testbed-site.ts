/** `bootmedia testbed --site site.yaml`: builds the site file's media, derives each case's expected outcome, boots them. */
import { join } from "node:path";
import { buildMedia } from "../../core/run.ts";
import { readFile } from "node:fs/promises";
import { parseYamlData } from "../../core/yaml-limits.ts";
import { contextFromCli } from "./context.ts";
import { printJson, progressFor } from "./render.ts";
import { loadSiteFile, planSiteCases, runSitePlans, type SiteCasePlan } from "../../testbed/site-file.ts";
import type { ExpectedMpOutcome } from "../../testbed/mp/expect.ts";
import type { CaseResult } from "../../testbed/runner.ts";

interface SiteFlags {
  json?: boolean;
  quiet?: boolean;
  accel?: "tcg" | "kvm";
  timeout?: string;
  concurrency?: string;
}

const outcome = (e: ExpectedMpOutcome | null) =>
  e === null
    ? "a stand-alone deploy (no MP)"
    : e.result === null
      ? "no MP reachable"
      : e.result === "policy"
        ? `policy ${e.policy!.deploymentId} from ${e.policy!.mp}`
        : `${e.result}${e.why ? ` (${e.why})` : ""}`;

/** A deploy case's time: both boots, to the last milestone each reached. */
const deployMs = (d: NonNullable<CaseResult["deploy"]>) =>
  d.boots.reduce((sum, b) => sum + Math.max(0, ...Object.values(b.milestones)), 0);

export async function runSiteFile(file: string, reportDir: string, flags: SiteFlags): Promise<number> {
  const loaded = await loadSiteFile(file);
  const plans: SiteCasePlan[] = await planSiteCases(
    loaded,
    async (spec, outDir, name) => {
      // The extension follows the spec's target type; the build itself validates the spec.
      const type = (parseYamlData(await readFile(spec, "utf8"), spec) as { target?: { type?: string } } | null)?.target
        ?.type;
      const out = join(outDir, `${name}.${type === "usb" ? "img" : "iso"}`);
      const { ctx, plugins } = await contextFromCli(
        spec,
        { force: true, out },
        progressFor({ json: flags.json === true, quiet: true }),
      );
      const built = await buildMedia(ctx, plugins);
      // A CD/DVD set is <name>-1.iso, -2.iso, …: the testbed boots disc 1.
      return built.outputs[0]?.path ?? out;
    },
    join(reportDir, "media"),
  );
  if (!flags.json && !flags.quiet)
    for (const p of plans)
      process.stderr.write(
        `site case ${p.name}: ${p.profile}/${p.nic}, expected: ${outcome(p.expected)}; contacts ${p.expected?.contacts.join(" -> ") || "none"}\n`,
      );
  const results = await runSitePlans(plans, {
    reportDir,
    accel: flags.accel ?? "tcg",
    ...(flags.timeout ? { timeoutSec: Number(flags.timeout) } : {}),
    ...(flags.concurrency ? { concurrency: Number(flags.concurrency) } : {}),
  });
  const ok = results.filter((r) => r.result.ok).length;
  if (flags.json) {
    printJson({
      ok: ok === results.length,
      report: reportDir,
      cases: results.map((r) => ({
        name: r.plan.name,
        id: r.result.id,
        ok: r.result.ok,
        expectedMp: r.plan.expected,
        expected: r.result.expected,
        actual: r.result.actual,
        ...(r.result.taskSequence ? { taskSequence: r.result.taskSequence } : {}),
        ...(r.result.deploy ? { deploy: r.result.deploy } : {}),
      })),
    });
  } else {
    for (const r of results) {
      const actual = r.result.actual.status === "pass" ? "pass" : `fail (${r.result.actual.reason})`;
      process.stdout.write(
        `${r.result.ok ? "ok      " : "MISMATCH"} ${r.plan.name}: expected ${outcome(r.plan.expected)}, got ${actual} in ${((r.result.deploy ? deployMs(r.result.deploy) : r.result.timings.verdictMs) / 1000).toFixed(1)} s\n`,
      );
    }
    process.stdout.write(`${ok}/${results.length} site cases as expected; reports under ${reportDir}\n`);
  }
  return ok === results.length ? 0 : 1;
}
