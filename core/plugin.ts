/** What a plugin is, and the narrowed view of a build it gets (tap, never call). */
import type { BuildHooks } from "./hooks.ts";
import type { BuildContext } from "./context.ts";

type TapMethods = "tap" | "tapPromise" | "tapAsync";
/** A hook as plugins see it: they may tap it, only core calls it. */
export type TapOnly<H> = Pick<H, Extract<keyof H, TapMethods>>;

export interface PluginBuild {
  readonly hooks: { readonly [K in keyof BuildHooks]: TapOnly<BuildHooks[K]> };
  readonly context: BuildContext;
}

export interface Plugin {
  /** Unique name; the plugin taps every hook with it. */
  readonly name: string;
  apply(build: PluginBuild): void;
}

export function isPlugin(value: unknown): value is Plugin {
  return typeof value === "object" && value !== null && typeof (value as Plugin).name === "string" && typeof (value as Plugin).apply === "function";
}
