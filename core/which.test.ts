import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { which } from "./which.ts";

const dir = mkdtempSync(join(tmpdir(), "bm-which-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tool = (folder: string, mode = 0o755) => {
  mkdirSync(join(dir, folder), { recursive: true });
  writeFileSync(join(dir, folder, "tool"), "#!/bin/sh\n");
  chmodSync(join(dir, folder, "tool"), mode);
  return join(dir, folder);
};

describe("which", () => {
  it("skips entries it cannot use, as a shell does: a file, a looping link, a folder of that name, a file it may not run, an empty entry", () => {
    writeFileSync(join(dir, "plain"), "x");
    symlinkSync("loop", join(dir, "loop"));
    mkdirSync(join(dir, "named/tool"), { recursive: true });
    const path = [
      join(dir, "plain"),
      join(dir, "loop"),
      "",
      join(dir, "named"),
      tool("noexec", 0o644),
      join(dir, "missing"),
      tool("good"),
    ].join(":");
    expect(which("tool", { path })).toBe(join(dir, "good/tool"));
  });

  it("takes the first usable entry, then the extra folders; undefined when none has it", () => {
    const first = tool("first");
    expect(which("tool", { path: `${first}:${tool("second")}` })).toBe(join(first, "tool"));
    expect(which("tool", { path: join(dir, "missing"), also: [first] })).toBe(join(first, "tool"));
    expect(which("tool", { path: join(dir, "plain") })).toBeUndefined();
  });
});
