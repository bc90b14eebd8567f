/**
 * Third-party plugins: from the spec's `plugins:` (paths relative to the spec, or package
 * names resolved from the spec's folder) and from --plugin (relative to the cwd).
 * A module's default export (or its only exported class) is a Plugin class or instance.
 */
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BootmediaError } from "../base/errors.ts";
import { isPlugin, type Plugin } from "./plugin.ts";

export async function loadPlugin(ref: string, baseDir: string): Promise<Plugin> {
  const isPath = ref.startsWith(".") || isAbsolute(ref);
  let url: string;
  try {
    url = isPath ? pathToFileURL(resolve(baseDir, ref)).href : pathToFileURL(createRequire(join(baseDir, "noop.js")).resolve(ref)).href;
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
    if (isPlugin(c)) return c;
    if (typeof c === "function") {
      try {
        const instance: unknown = new (c as new () => unknown)();
        if (isPlugin(instance)) return instance;
      } catch {
        /* not a plugin class */
      }
    }
  }
  throw new BootmediaError("BM1008", `plugin "${ref}" exports no plugin (a class with name and apply(build))`, { where: ref });
}

export async function loadPlugins(refs: Array<{ ref: string; baseDir: string }>): Promise<Plugin[]> {
  const out: Plugin[] = [];
  for (const { ref, baseDir } of refs) out.push(await loadPlugin(ref, baseDir));
  return out;
}
