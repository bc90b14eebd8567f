/**
 * Third-party plugins: from the spec's `plugins:` (paths relative to the spec, or package
 * names resolved from the spec's folder; a string or `{ use, options }`) and from --plugin
 * (relative to the cwd). A module's default export (or any export) is a plugin definition
 * (`definePlugin`), a plugin instance, or a plugin class.
 */
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BootmediaError } from "../base/errors.ts";
import { isPlugin, isPluginDefinition, type Plugin, type PluginDefinition } from "./plugin.ts";
import type { PluginEntry } from "./spec-schema.ts";
import { enterPlugin } from "./plugin-activity.ts";
import "./codes.ts";

export interface PluginRef {
  ref: string;
  baseDir: string;
  /** Index in the spec's `plugins:` list (its options sit there), if it came from the spec. */
  index?: number;
}

export interface LoadedPlugin {
  definition: PluginDefinition<unknown>;
  ref: PluginRef;
}

async function loadPluginDefinition(ref: string, baseDir: string): Promise<PluginDefinition<unknown>> {
  const leave = enterPlugin({ plugin: ref, hook: "load" }); // its module's code and class probes run now
  try {
    return await importDefinition(ref, baseDir);
  } finally {
    leave();
  }
}

async function importDefinition(ref: string, baseDir: string): Promise<PluginDefinition<unknown>> {
  const isPath = ref.startsWith(".") || isAbsolute(ref);
  let url: string;
  try {
    url = isPath
      ? pathToFileURL(resolve(baseDir, ref)).href
      : pathToFileURL(createRequire(join(baseDir, "noop.js")).resolve(ref)).href;
  } catch {
    throw new BootmediaError("BM1008", `plugin "${ref}" not found from ${baseDir}`, { where: ref });
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const msg = (e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" ? "file not found" : (e as Error).message;
    throw new BootmediaError("BM1008", `plugin "${ref}" could not be loaded: ${msg}`, { where: ref, cause: e });
  }
  const candidates = [mod.default, ...Object.values(mod)].filter((v) => v !== undefined);
  for (const c of candidates) {
    if (isPluginDefinition(c)) return c;
    if (isPlugin(c)) return { name: c.name, create: () => c };
    if (typeof c === "function") {
      const Class = c as new (options?: unknown) => unknown;
      let probe: unknown;
      try {
        probe = new Class();
      } catch {
        continue; // not a plugin class
      }
      // A class may declare its codes as a static `codes` table.
      const codes = (Class as { codes?: PluginDefinition["codes"] }).codes;
      if (isPlugin(probe))
        return {
          name: probe.name,
          ...(codes ? { codes } : {}),
          create: (options) => (options === undefined ? probe : new Class(options)) as Plugin,
        };
    }
  }
  throw new BootmediaError(
    "BM1008",
    `plugin "${ref}" exports no plugin (definePlugin({...}), or a class with name and apply(build))`,
    { where: ref },
  );
}

/** The spec's `plugins:` entries as references (their options stay in the spec). */
export function pluginRefs(entries: unknown, specDir: string, cliPlugins: string[] = []): PluginRef[] {
  const list = Array.isArray(entries) ? (entries as PluginEntry[]) : [];
  const fromSpec = list.flatMap((e, index) => {
    const ref = typeof e === "string" ? e : e && typeof e === "object" && typeof e.use === "string" ? e.use : undefined;
    return ref === undefined ? [] : [{ ref, baseDir: specDir, index }];
  });
  return [...fromSpec, ...cliPlugins.map((ref) => ({ ref, baseDir: process.cwd() }))];
}

export async function loadPlugins(refs: PluginRef[]): Promise<LoadedPlugin[]> {
  const out: LoadedPlugin[] = [];
  for (const ref of refs) out.push({ definition: await loadPluginDefinition(ref.ref, ref.baseDir), ref });
  return out;
}
