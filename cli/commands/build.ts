/** `bootmedia build` and `bootmedia plan`. */
import type { CAC } from "cac";
import { buildMedia, planMedia, type PlanResult } from "../../core/run.ts";
import { contextFromCli, type CommonFlags } from "../context.ts";
import { printDiagnostics, printJson, progressFor } from "../render.ts";
import { addSpecFlags } from "../main.ts";
import type { MediaLayout } from "../../core/types.ts";
import { DEFAULT_HOOK_TIMEOUT_S } from "../../core/hook-timeout.ts";

type Run = (fn: () => Promise<number>) => void;

export function registerBuildCommands(cli: CAC, run: Run): void {
  const build = cli
    .command("build [spec]", "Build the media: resolve → fetch → validate → layout → write")
    .option("--force", "Replace existing outputs (atomically; the old output stays until the new one is complete)")
    .option("--strict", "Treat warnings (e.g. no media password) as errors")
    .option("--yes", "Do not ask before erasing a USB drive (for scripts)")
    .option("--cache-dir <dir>", "Content cache (default $BOOTMEDIA_CACHE or ~/.cache/bootmedia)")
    .option("--concurrency <n>", "Parallel fetches (1-256)", { default: 4 })
    .option("--hook-timeout <seconds>", `Time limit of one plugin hook call (default $BOOTMEDIA_HOOK_TIMEOUT or ${DEFAULT_HOOK_TIMEOUT_S})`);
  addSpecFlags(build);
  build.action((spec: string | undefined, flags: CommonFlags) =>
    run(async () => {
      const mode = { json: flags.json === true, quiet: flags.quiet === true };
      const { ctx, plugins } = await contextFromCli(spec, flags, progressFor(mode));
      const result = await buildMedia(ctx, plugins);
      if (mode.json) {
        printJson({ ok: true, outputs: result.outputs, log: result.logFile, fetch: result.fetch, timings: result.timings, diagnostics: result.diagnostics });
      } else {
        printDiagnostics(result.diagnostics);
        for (const o of result.outputs) process.stdout.write(`wrote ${o.path} (${o.bytes} bytes)\n`);
        process.stdout.write(`log: ${result.logFile}\n`);
      }
      return 0;
    }),
  );

  const plan = cli
    .command("plan [spec]", "Resolve, validate and lay out the media; print the tree, sizes and volumes; write nothing")
    .option("--strict", "Treat warnings as errors");
  addSpecFlags(plan);
  plan.action((spec: string | undefined, flags: CommonFlags) =>
    run(async () => {
      const mode = { json: flags.json === true, quiet: true };
      const { ctx, plugins } = await contextFromCli(spec, flags, progressFor(mode));
      const result = await planMedia(ctx, plugins);
      if (flags.json) printJson(planJson(result));
      else {
        printDiagnostics(result.diagnostics);
        process.stdout.write(planText(result.layout));
      }
      return 0;
    }),
  );
}

export function planJson(result: PlanResult) {
  return {
    ok: true,
    target: result.media.target,
    packages: result.media.packages.map((p) => ({ id: p.id, type: p.type, name: p.name, version: p.version, arch: p.bootImage?.arch })),
    volumes: result.layout.volumes.map((v) => ({
      index: v.index,
      label: v.label,
      bytes: v.entries.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0),
      boot: v.boot,
      files: v.entries.filter((e) => e.type === "file").map((e) => ({ path: e.path, size: (e as { size: number }).size })),
    })),
    config: result.layout.config,
    diagnostics: result.diagnostics,
  };
}

function planText(layout: MediaLayout): string {
  const lines: string[] = [];
  for (const v of layout.volumes) {
    const files = v.entries.filter((e) => e.type === "file") as Array<{ path: string; size: number }>;
    const bytes = files.reduce((n, f) => n + f.size, 0);
    lines.push(`volume ${v.index} "${v.label}": ${files.length} files, ${bytes} bytes`);
    for (const b of v.boot) lines.push(`  boot ${b.firmware}/${b.arch} (${b.role}): ${b.path}`);
    for (const f of files) lines.push(`  ${String(f.size).padStart(12)}  ${f.path}`);
  }
  return lines.join("\n") + "\n";
}
