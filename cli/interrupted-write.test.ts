/**
 * A signal that arrives while a writer is still writing (the handler aborts every output
 * transaction) must not end in "build succeeded": the writer's temporary is gone and the
 * old output stays, so the build fails with BM4003 and no success log is written.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contextFromCli } from "./commands/context.ts";
import { scratchFixtures } from "../testing/cli.ts";
import { abortAllOutputs } from "../core/output.ts";
import { silentProgress } from "../core/progress.ts";
import { buildMedia } from "../core/run.ts";
import type { Plugin } from "../core/plugin.ts";

/** A writer that wins the bail (applied first) and is "interrupted" half-way through. */
const interruptedWriter: Plugin = {
  name: "InterruptedWriter",
  apply(b) {
    b.hooks.writer.tap("InterruptedWriter", () => ({
      outputs: (_l, t) => [t.output],
      async write(ctx) {
        const tmp = await ctx.tx.temp(ctx.target.output);
        writeFileSync(tmp, "half");
        abortAllOutputs(); // what the SIGINT handler does
        writeFileSync(tmp, "half of the new output"); // I/O in flight re-creates it
        return [{ path: ctx.target.output, bytes: 22 }];
      },
    }));
  },
};

describe("a build interrupted while writing", () => {
  it("fails with BM4003, keeps the old output, writes no success log", async () => {
    const fx = await scratchFixtures();
    const out = join(fx.dir, "m.img");
    writeFileSync(out, "old output");
    const { ctx, plugins } = await contextFromCli(
      fx.spec("sample-dir.yaml"),
      { cacheDir: fx.cache, out, target: "usb", force: true },
      silentProgress,
    );
    await expect(buildMedia(ctx, [interruptedWriter, ...plugins])).rejects.toMatchObject({ code: "BM4003" });
    expect(readFileSync(out, "utf8")).toBe("old output");
    expect(existsSync(`${out}.bootmedia.log`)).toBe(false);
    expect(readFileSync(`${out}.failed.bootmedia.log`, "utf8")).toMatch(/\[failed\] BM4003/);
    expect(readdirSync(fx.dir).filter((n) => n.includes(".bootmedia-") && !n.endsWith("failed.log"))).toEqual([]);
    expect(readdirSync(fx.dir).some((n) => n === "bootmedia.log")).toBe(false);
  });
});
