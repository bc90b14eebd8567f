/** The spec-mirroring flags of `build` and `plan`, from the spec model of the plugins in use. */
import { dirname, resolve } from "node:path";
import type { Command } from "cac";
import { LIMITS, peekInputFile } from "../../core/limits.ts";
import { flagSyntax, specFlags } from "../../core/spec-flags.ts";
import type { SpecModel } from "../../core/spec-model.ts";
import { PluginSet } from "../../core/plugin-set.ts";
import { parseYamlData } from "../../core/yaml-limits.ts";
import { BUILTIN_PLUGINS } from "../../plugins/builtin.ts";

/** Adds every spec-mirroring flag to a command (help text derived from the schema). */
export function addSpecFlags(cmd: Command, model: SpecModel): void {
  for (const f of specFlags(model))
    for (const syntax of flagSyntax(f)) {
      if (syntax.startsWith("--no-")) continue; // cac derives --no-x from --x
      cmd.option(syntax, f.description);
    }
}

/**
 * The model `--help` shows: the built-ins plus the plugins the spec on the command line names
 * (so a third-party plugin's options appear). A spec that cannot be read yet gets the
 * built-ins' model; the command itself then reports what is wrong with it.
 */
export async function modelForArgs(args: string[]): Promise<SpecModel> {
  const file = args.find((a, i) => i > 0 && !a.startsWith("-") && /\.(ya?ml|json)$/i.test(a));
  const cliPlugins = args.flatMap((a, i) =>
    a === "--plugin" && args[i + 1] ? [resolve(args[i + 1]!)] : a.startsWith("--plugin=") ? [resolve(a.slice(9))] : [],
  );
  try {
    // Never blocks (a FIFO) nor expands an alias bomb, nor recurses into deep nesting: a spec that fails this first look gets
    // the built-ins' model, and its load reports the problem with a code.
    const text = file ? peekInputFile(file, LIMITS.specBytes) : undefined;
    const raw = text === undefined ? {} : ((parseYamlData(text, file!) ?? {}) as Record<string, unknown>);
    return (await PluginSet.forRawSpec(BUILTIN_PLUGINS, raw, dirname(resolve(file ?? ".")), cliPlugins)).model;
  } catch {
    return new PluginSet(BUILTIN_PLUGINS).model;
  }
}
