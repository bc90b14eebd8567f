/** The target resolved once, and what a target type must declare (core/target.ts, core/plugin-set.ts). */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { definePlugin } from "./plugin.ts";
import { PluginSet } from "./plugin-set.ts";
import { defineTargetType, type TargetType } from "./spec-schema.ts";
import { resolveTarget } from "./target.ts";

const dir = mkdtempSync(join(tmpdir(), "bm-target-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the resolved target", () => {
  it("is resolved against the spec's folder and frozen, keeping the type's options; it replaces its output and logs beside it", () => {
    const t = resolveTarget({ type: "iso", output: "out/a.iso", capacity: "dvd" }, dir, { writes: "file" });
    expect(t).toMatchObject({
      type: "iso",
      output: join(dir, "out/a.iso"),
      capacity: "dvd",
      writes: "file",
      drives: false,
      isDrive: false,
    });
    expect(t.outputs).toEqual([join(dir, "out/a.iso")]);
    expect(t.logFiles).toEqual({
      succeeded: join(dir, "out/a.iso.bootmedia.log"),
      failed: join(dir, "out/a.iso.failed.bootmedia.log"),
    });
    expect(Object.isFrozen(t) && Object.isFrozen(t.outputs) && Object.isFrozen(t.logFiles)).toBe(true);
  });

  it("is a drive only when its type writes drives: then it replaces no file and logs in the current folder (mknod makes the block device)", () => {
    const node = join(dir, "sdz");
    execFileSync("mknod", [node, "b", "7", "250"]);
    const usb = resolveTarget({ type: "usb", output: node }, dir, { writes: "file", drives: true });
    expect(usb).toMatchObject({ isDrive: true, outputs: [] });
    expect(usb.logFiles.succeeded).toBe(join(process.cwd(), "sdz.bootmedia.log"));
    expect(resolveTarget({ type: "iso", output: node }, dir, { writes: "file" }).isDrive).toBe(false);
    expect(
      resolveTarget({ type: "usb", output: join(dir, "image.img") }, dir, { writes: "file", drives: true }),
    ).toMatchObject({ isDrive: false, outputs: [join(dir, "image.img")] });
  });
});

describe("a target type's declaration", () => {
  const withTarget = (target: TargetType) => () =>
    new PluginSet(
      [],
      [
        {
          ref: { ref: "./acme.js", baseDir: dir },
          definition: definePlugin({ name: "Acme", targets: [target], create: () => ({ name: "Acme", apply() {} }) }),
        },
      ],
    );

  it("is refused in the one-string form of earlier versions, which said nothing of what the target writes", () => {
    expect(() => defineTargetType("tar", "a tar archive" as never, {})).toThrow(
      /second argument is \{ description, writes: "file" \| "folder" \}/,
    );
  });

  it("must say what the target writes, and keep its options clear of the target's own fields (BM1008)", () => {
    const tar = defineTargetType("tar", { description: "a tar archive", writes: "file" }, {});
    expect(withTarget(tar)).not.toThrow();
    expect(withTarget({ ...tar, writes: undefined as never })).toThrow(
      expect.objectContaining({
        code: "BM1008",
        message: expect.stringContaining('target type "tar" does not say what it writes'),
      }),
    );
    expect(withTarget({ ...tar, options: { isDrive: {} as never, gzip: {} as never } })).toThrow(
      expect.objectContaining({ code: "BM1008", message: expect.stringContaining("options named isDrive") }),
    );
  });
});
