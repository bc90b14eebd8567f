/**
 * `bootmedia init [spec.yaml]`: the wizard (init-wizard.ts) writes a commented spec,
 * then validates it through the build's own pipeline (resolve and validate, nothing written
 * but the spec). Every answer can come from the spec flags; `--yes` takes the defaults.
 */
import type { CAC } from "cac";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { applySpecFlags } from "../../core/spec-flags.ts";
import { renderSpecYaml } from "../../core/spec-write.ts";
import { planMedia } from "../../core/run.ts";
import { builtinPluginSet } from "../../plugins/builtin.ts";
import { addSpecFlags } from "./spec-flags.ts";
import { contextFromCli, type CommonFlags } from "./context.ts";
import { printDiagnostics, printJson, progressFor } from "./render.ts";
import type { CommandRow, Run } from "./types.ts";
import { runWizard } from "./init-wizard.ts";

export function register(cli: CAC, run: Run, _args: string[], row: CommandRow): void {
  // The wizard writes specs for the built-in plugins; a spec's own plugins are added by hand later.
  const model = builtinPluginSet().model;
  const cmd = cli
    .command(row.usage, row.describe)
    .option("--yes", "Take the default for every answer no flag gives (never asks)")
    .option("--force", "Replace an existing spec file");
  addSpecFlags(cmd, model);
  cmd.action((file: string | undefined, flags: CommonFlags) =>
    run(async () => {
      const out = resolve(file ?? "media.yaml");
      if (existsSync(out) && !flags.force) throw new BootmediaError("BM1010", `output exists: ${out}`, { where: out });
      const given: Record<string, unknown> = {};
      applySpecFlags(given, { ...flags, plugin: undefined }, model);
      const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true && flags.json !== true;
      const raw = await runWizard({
        given,
        yes: flags.yes === true,
        interactive,
        now: Date.now(),
        baseDir: dirname(out),
        model,
      });
      if (!raw) return 1;
      await writeFile(
        out,
        renderSpecYaml(
          raw,
          [
            `Media spec written by \`bootmedia init\` on ${new Date().toISOString().slice(0, 10)}.`,
            "Every option: docs/spec.md. Build it: bootmedia build " + (file ?? "media.yaml"),
          ],
          model,
        ),
      );
      const { ctx, plugins } = await contextFromCli(
        out,
        { cacheDir: flags.cacheDir },
        progressFor({ json: true, quiet: true }),
      );
      const plan = await planMedia(ctx, plugins);
      if (flags.json) printJson({ ok: true, spec: out, diagnostics: plan.diagnostics });
      else {
        printDiagnostics(plan.diagnostics);
        process.stdout.write(
          `wrote ${out}; it validates (${plan.layout.volumes.length} volume${plan.layout.volumes.length === 1 ? "" : "s"} planned)\n`,
        );
      }
      return 0;
    }),
  );
}
