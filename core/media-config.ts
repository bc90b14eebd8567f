/**
 * The media configuration files in bootmedia/ (docs/media-config.md):
 * media.json (canonical, read by `bootmedia inspect`) and media.env (the same facts as
 * shell assignments for the busybox boot environment, which has no JSON parser). Their
 * names and format are shared: the media-config plugin writes them, the secrets plugin
 * renders secrets.env the same way, and every writer's inspector reads media.json back.
 */
import type { MediaConfig } from "./types.ts";

const CONFIG_DIR = "bootmedia";
export const CONFIG_JSON = `${CONFIG_DIR}/media.json`;
export const CONFIG_ENV = `${CONFIG_DIR}/media.env`;

/** Stable JSON: sorted keys, so the same spec gives the same bytes. */
export function renderConfigJson(config: MediaConfig): string {
  return JSON.stringify(sortKeys(config), null, 2) + "\n";
}

/** POSIX single quoting: safe for any value in `. media.env`. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function renderConfigEnv(vars: Record<string, string>): string {
  return (
    Object.entries(vars)
      .map(([k, v]) => `${k}=${shellQuote(v)}`)
      .join("\n") + "\n"
  );
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
