/**
 * A spec, loaded with the plugins it names: the composition step every command shares.
 * Built-ins come from plugins/builtin.ts; the spec's own plugins from its `plugins:`.
 */
import { resolve } from "node:path";
import { PluginSet } from "../core/plugin-set.ts";
import { applySpecFlags } from "../core/spec-flags.ts";
import { loadSpecFile, loadSpecObject, type LoadedSpec } from "../core/spec-load.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtin.ts";
export { builtinPluginSet } from "../plugins/builtin.ts";

export interface SpecInput {
  /** A spec file (YAML or JSON); without one, the spec comes from `spec` and `flags` alone. */
  file?: string;
  /** A spec as an object (a program's own), used when there is no file. */
  spec?: Record<string, unknown>;
  /** Folder relative paths resolve against, for a spec given as an object (default: cwd). */
  dir?: string;
  /** Command-line flags that mirror spec options (cac's parsed options). */
  flags?: Record<string, unknown>;
  /** Extra plugins (paths, relative to the cwd). */
  plugins?: string[];
}

export interface SpecWithPlugins extends LoadedSpec {
  plugins: PluginSet;
}

export async function loadSpec(input: SpecInput): Promise<SpecWithPlugins> {
  let plugins: PluginSet | undefined;
  const source = {
    model: async (raw: Record<string, unknown>, dir: string) => {
      plugins = await PluginSet.forRawSpec(
        BUILTIN_PLUGINS,
        raw,
        dir,
        (input.plugins ?? []).map((p) => resolve(p)),
      );
      return plugins.model;
    },
    overrides: input.flags
      ? (raw: Record<string, unknown>, model: Parameters<typeof applySpecFlags>[2]) =>
          applySpecFlags(raw, { ...input.flags, plugin: undefined }, model)
      : undefined,
  };
  const loaded = input.file
    ? await loadSpecFile(input.file, source)
    : await loadSpecObject({ ...(input.spec ?? {}) }, input.dir ?? process.cwd(), source);
  return { ...loaded, plugins: plugins! };
}
