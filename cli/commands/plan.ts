/** `bootmedia plan`: resolve, validate and lay out the media; writes nothing. */
import type { CAC } from "cac";
import { planMedia, type PlanResult } from "../../core/run.ts";
import type { MediaLayout } from "../../core/types.ts";
import { contextFromCli, type CommonFlags } from "./context.ts";
import { printDiagnostics, printJson, progressFor } from "./render.ts";
import { addSpecFlags, modelForArgs } from "./spec-flags.ts";
import type { CommandRow, Run } from "./types.ts";
import { plannedStandalone } from "../../plugins/standalone/index.ts";

export async function register(cli: CAC, run: Run, args: string[], row: CommandRow): Promise<void> {
  const plan = cli.command(row.usage, row.describe).option("--strict", "Treat warnings as errors");
  addSpecFlags(plan, await modelForArgs(args));
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
    // The spec's target with its output resolved, as before the target carried derived facts.
    target: { ...result.media.spec.target, output: result.media.target.output },
    packages: result.media.packages.map((p) => ({
      id: p.id,
      type: p.type,
      name: p.name,
      version: p.version,
      arch: p.bootImage?.arch,
    })),
    volumes: result.layout.volumes.map((v) => ({
      index: v.index,
      label: v.label,
      bytes: v.entries.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0),
      boot: v.boot,
      files: v.entries
        .filter((e) => e.type === "file")
        .map((e) => ({ path: e.path, size: (e as { size: number }).size })),
    })),
    config: result.layout.config,
    ...(result.layout.config.standalone ? { standalone: { files: plannedStandalone(result.layout.volumes) } } : {}),
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
  if (layout.config.standalone) {
    lines.push("stand-alone content (package file -> disc: media path):");
    for (const f of plannedStandalone(layout.volumes)) {
      lines.push(
        `  ${f.package}/${f.file}  ${f.size} bytes${f.pieces.length > 1 ? ` in ${f.pieces.length} pieces` : ""}`,
      );
      for (const p of f.pieces) lines.push(`    disc ${p.disc}: ${p.path} (${p.size} bytes)`);
    }
  }
  return lines.join("\n") + "\n";
}
