/**
 * The build's hook map, declared once and frozen (the webpack Compiler.hooks pattern).
 * Every tap is wrapped so that a failure names the hook and the plugin it came from.
 */
import { AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncBailHook, SyncHook } from "tapable";
import { BootmediaError } from "../base/errors.ts";
import type { Diagnostic } from "../base/diagnostics.ts";
import type { ContentItem, MediaLayout, ResolvedMedia, ResolvedTarget, WriteResult } from "./types.ts";
import type { Fetcher } from "./fetch.ts";
import type { MediaWriter } from "./write.ts";
import { DEFAULT_HOOK_TIMEOUT_S, withTimeLimit } from "./hook-timeout.ts";
import { enterPlugin } from "./plugin-activity.ts";
import "./codes.ts";

/**
 * Named layout stages: boot files first, content, then the settings files (password verifier,
 * media certificate), the secret part sealed from what they collected, the media configuration
 * that records their keys, its manifest, then splitting.
 */
export const LAYOUT_STAGE = {
  BOOT: -100,
  CONTENT: 0,
  SETTINGS: 90,
  SECRETS: 95,
  CONFIG: 100,
  MANIFEST: 150,
  SPLIT: 200,
} as const;

/** Collects diagnostics; given to validate and checkLayout taps. */
export interface Reporter {
  report(d: Diagnostic): void;
}

export interface BuildSummary {
  outputs: WriteResult["outputs"];
  diagnostics: Diagnostic[];
  timings: Record<string, number>;
}

export function createHooks() {
  return Object.freeze({
    /** Each plugin may add packages and content items; returns the enriched media. */
    resolve: new AsyncSeriesWaterfallHook<[ResolvedMedia]>(["media"]),
    /** After resolve: read-only look at the resolved media (core has derived its bootImages). */
    afterResolve: new AsyncSeriesHook<[ResolvedMedia]>(["media"]),
    /** First plugin that can fetch this item's origin (local folder, HTTP DP…) wins. */
    fetcher: new SyncBailHook<[ContentItem], Fetcher | undefined>(["item"]),
    /** After every item is verified in the cache. */
    afterFetch: new AsyncSeriesHook<[ResolvedMedia]>(["media"]),
    /** Report diagnostics about the resolved media; any error stops the build. */
    validate: new AsyncSeriesHook<[ResolvedMedia, Reporter]>(["media", "reporter"]),
    /** Each plugin adds its entries, boot records and config (order by LAYOUT_STAGE). */
    layout: new AsyncSeriesWaterfallHook<[MediaLayout, ResolvedMedia]>(["layout", "media"]),
    /** Report diagnostics about the final layout (sizes, capacity, collisions). */
    checkLayout: new AsyncSeriesHook<[MediaLayout, ResolvedMedia, Reporter]>(["layout", "media", "reporter"]),
    /** First plugin that writes this target type wins. */
    writer: new SyncBailHook<[ResolvedTarget], MediaWriter | undefined>(["target"]),
    /** Right before the first byte of output is written. */
    beforeWrite: new AsyncSeriesHook<[MediaLayout]>(["layout"]),
    /** After the outputs are complete and renamed into place. */
    afterWrite: new AsyncSeriesHook<[WriteResult]>(["result"]),
    /** The build succeeded. */
    done: new AsyncSeriesHook<[BuildSummary]>(["summary"]),
    /** The build failed; temporaries are already removed. */
    failed: new SyncHook<[Error]>(["error"]),
  });
}

export type BuildHooks = ReturnType<typeof createHooks>;

/**
 * Wraps every tap of every hook so its failures carry the hook's and the plugin's names,
 * every asynchronous call has a time limit (BM4005), and the running tap is known (an exit
 * it calls is blamed on it).
 */
export function wrapTapFailures(hooks: BuildHooks, timeoutMs = DEFAULT_HOOK_TIMEOUT_S * 1000): void {
  for (const [hookName, hook] of Object.entries(hooks)) {
    (hook as AsyncSeriesHook<unknown[]>).intercept({
      register: (tap) => {
        const fn = tap.fn as (...args: unknown[]) => unknown;
        const blame = (e: unknown) => attributeFailure(e, hookName, tap.name);
        const enter = () => enterPlugin({ plugin: tap.name, hook: hookName });
        if (tap.type === "promise") {
          tap.fn = async (...args: unknown[]) => {
            const leave = enter();
            try {
              return await withTimeLimit(Promise.resolve(fn(...args)), timeoutMs, hookName, tap.name);
            } catch (e) {
              throw blame(e);
            } finally {
              leave();
            }
          };
        } else if (tap.type === "sync") {
          tap.fn = (...args: unknown[]) => {
            const leave = enter();
            try {
              return fn(...args);
            } catch (e) {
              throw blame(e);
            } finally {
              leave();
            }
          };
        } else {
          tap.fn = (...args: unknown[]) => {
            const cb = args.pop() as (err?: unknown, r?: unknown) => void;
            const leave = enter();
            const settled = new Promise((resolve, reject) =>
              fn(...args, (err: unknown, r: unknown) => (err ? reject(err) : resolve(r))),
            );
            withTimeLimit(settled, timeoutMs, hookName, tap.name)
              .finally(leave)
              .then(
                (r) => cb(undefined, r),
                (err: unknown) => cb(blame(err)),
              );
          };
        }
        return tap;
      },
    });
  }
}

/** A coded error keeps its code and gains the blame; anything else becomes BM4004. */
function attributeFailure(e: unknown, hook: string, plugin: string): BootmediaError {
  if (e instanceof BootmediaError) {
    if ((e as { hook?: string }).hook) return e;
    return Object.assign(e, { hook, plugin });
  }
  const message = e instanceof Error ? e.message : String(e);
  return Object.assign(
    new BootmediaError("BM4004", `plugin "${plugin}" failed in hook "${hook}": ${message}`, { cause: e }),
    { hook, plugin },
  );
}
