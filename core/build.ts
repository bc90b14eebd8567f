/**
 * One build = one MediaBuild: a frozen hook map plus the context. Core calls the hooks
 * stage by stage; plugins only tap them (through the narrowed PluginBuild view).
 */
import { createHooks, wrapTapFailures, type BuildHooks } from "./hooks.ts";
import type { BuildContext } from "./context.ts";
import { BootmediaError } from "../base/errors.ts";
import type { Plugin, PluginBuild } from "./plugin.ts";
import { enterPlugin } from "./plugin-activity.ts";

export class MediaBuild {
  readonly hooks: BuildHooks;
  /** What plugins get: the same hooks, tap methods only. */
  readonly pluginView: PluginBuild;
  private readonly applied: string[] = [];

  constructor(readonly context: BuildContext) {
    this.hooks = createHooks();
    wrapTapFailures(this.hooks, context.options?.hookTimeoutMs);
    const view = Object.fromEntries(
      Object.entries(this.hooks).map(([name, hook]) => {
        const h = hook as unknown as Record<string, (...a: unknown[]) => unknown>;
        const methods = ["tap", "tapPromise", "tapAsync"].filter((m) => typeof h[m] === "function");
        return [name, Object.freeze(Object.fromEntries(methods.map((m) => [m, h[m]!.bind(hook)])))];
      }),
    );
    this.pluginView = Object.freeze({ hooks: Object.freeze(view) as PluginBuild["hooks"], context });
  }

  /** Applies plugins in order; a plugin name may appear only once. */
  use(plugins: Plugin[]): void {
    for (const p of plugins) {
      if (this.applied.includes(p.name))
        throw new BootmediaError("BM1008", `plugin "${p.name}" is loaded twice`, { where: p.name });
      const leave = enterPlugin({ plugin: p.name, hook: "apply" });
      try {
        p.apply(this.pluginView);
      } catch (e) {
        throw new BootmediaError(
          "BM4006",
          `plugin "${p.name}" failed while being set up: ${e instanceof Error ? e.message : String(e)}`,
          { where: p.name, cause: e },
        );
      } finally {
        leave();
      }
      this.applied.push(p.name);
    }
  }

  get pluginNames(): readonly string[] {
    return this.applied;
  }
}
