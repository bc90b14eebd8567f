import { describe, expect, it } from "vitest";
import { MediaBuild } from "./build.ts";
import { BootmediaError } from "../base/errors.ts";
import { createHooks } from "./hooks.ts";
import { silentProgress } from "./progress.ts";
import type { BuildContext } from "./context.ts";
import type { MediaLayout, ResolvedMedia } from "./types.ts";
import { resolveTarget } from "./target.ts";

const ctx = { progress: silentProgress } as unknown as BuildContext;
const media = { items: [], packages: [] } as unknown as ResolvedMedia;

describe("MediaBuild hooks", () => {
  it("is one frozen map whose hooks plugins can tap but not call", () => {
    const build = new MediaBuild(ctx);
    expect(Object.isFrozen(build.hooks)).toBe(true);
    const view = build.pluginView.hooks.resolve as unknown as Record<string, unknown>;
    expect(typeof view.tapPromise).toBe("function");
    expect(view.promise).toBeUndefined();
    expect(view.call).toBeUndefined();
    expect(Object.keys(build.pluginView.hooks).sort()).toEqual(Object.keys(createHooks()).sort());
  });

  it("names the hook and the plugin when a promise tap throws", async () => {
    const build = new MediaBuild(ctx);
    build.use([
      {
        name: "BrokenPlugin",
        apply: (b) =>
          b.hooks.resolve.tapPromise("BrokenPlugin", async () => {
            throw new TypeError("boom");
          }),
      },
    ]);
    const err = await build.hooks.resolve.promise(media).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BootmediaError);
    expect((err as BootmediaError).code).toBe("BM4004");
    expect((err as Error).message).toBe('plugin "BrokenPlugin" failed in hook "resolve": boom');
  });

  it("keeps a coded error's code and adds the blame for sync taps", () => {
    const build = new MediaBuild(ctx);
    build.use([
      {
        name: "PickyWriter",
        apply: (b) =>
          b.hooks.writer.tap("PickyWriter", () => {
            throw new BootmediaError("BM3005", "nope");
          }),
      },
    ]);
    let err: unknown;
    try {
      build.hooks.writer.call(resolveTarget({ type: "x", output: "/x" }, "/", { writes: "file" }));
    } catch (e) {
      err = e;
    }
    expect((err as BootmediaError).code).toBe("BM3005");
    expect(err).toMatchObject({ hook: "writer", plugin: "PickyWriter" });
  });

  it("runs layout taps in LAYOUT_STAGE order, not registration order", async () => {
    const build = new MediaBuild(ctx);
    const seen: string[] = [];
    const tapAt = (name: string, stage: number) => ({
      name,
      apply: (b: MediaBuild["pluginView"]) =>
        b.hooks.layout.tapPromise({ name, stage }, async (l: MediaLayout) => (seen.push(name), l)),
    });
    build.use([tapAt("config", 100), tapAt("boot", -100), tapAt("content", 0)]);
    await build.hooks.layout.promise({ volumes: [], config: {} as MediaLayout["config"] }, media);
    expect(seen).toEqual(["boot", "content", "config"]);
  });

  it("refuses the same plugin twice", () => {
    const build = new MediaBuild(ctx);
    const p = { name: "Twice", apply: () => {} };
    expect(() => build.use([p, p])).toThrow(/loaded twice/);
  });
});

describe("redaction of what the CLI prints", () => {
  it("scrubs every registered secret from any text, whichever build registered it", async () => {
    const { Redactor, redactEverywhere } = await import("./secrets.ts");
    const a = new Redactor();
    const b = new Redactor();
    a.add("hunter2-Secret!");
    b.add("pfx-pass-9");
    expect(redactEverywhere("plugin failed: password hunter2-Secret! and pfx-pass-9")).toBe(
      "plugin failed: password *** and ***",
    );
  });
});
