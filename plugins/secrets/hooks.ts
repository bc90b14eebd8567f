/**
 * The hooks the secrets plugin offers (the webpack getHooks pattern): one frozen map per
 * build. Kept apart from the plugin so other plugins can tap it without loading it.
 */
import { AsyncSeriesWaterfallHook } from "tapable";
import type { PluginBuild } from "../../core/plugin.ts";
import type { ResolvedMedia } from "../../core/types.ts";

/** Shell variable name → value; rendered as secrets.env (POSIX single-quoted lines). */
export type SecretEntries = Record<string, string>;

export function createSecretsHooks() {
  return Object.freeze({
    /** Each plugin adds the secrets it needs on the media; returns the entries. */
    collect: new AsyncSeriesWaterfallHook<[SecretEntries, ResolvedMedia]>(["secrets", "media"]),
  });
}
export type SecretsHooks = ReturnType<typeof createSecretsHooks>;

const hooksOf = new WeakMap<PluginBuild, SecretsHooks>();

/** The secrets hooks of a build: tap `collect` to put a secret into bootmedia/secrets.enc. */
export function getSecretsHooks(build: PluginBuild): SecretsHooks {
  let hooks = hooksOf.get(build);
  if (!hooks) hooksOf.set(build, (hooks = createSecretsHooks()));
  return hooks;
}
