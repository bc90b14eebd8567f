/** Signals that must end the process, and one log per output that a failed build never replaces. */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, bootmedia, scratchFixtures } from "../testing/cli.ts";

let fx: Awaited<ReturnType<typeof scratchFixtures>>;
beforeAll(async () => {
  fx = await scratchFixtures();
});
afterAll(() => execFileSync("rm", ["-rf", fx.dir]));

describe("signals", () => {
  it("a second SIGINT ends a build stuck on a blocked read (a plugin reading a FIFO)", async () => {
    const fifo = join(fx.dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const plugin = join(fx.dir, "blocked.mjs");
    writeFileSync(
      plugin,
      `import { readFile } from "node:fs/promises";
export default class Blocked { name = "Blocked"; apply(b) { b.hooks.resolve.tapPromise("Blocked", async (m) => { await readFile(${JSON.stringify(fifo)}); return m; }); } }\n`,
    );
    const child = execa(
      "node",
      [BIN, "build", fx.spec("sample-dir.yaml"), "--out", join(fx.dir, "m"), "--plugin", plugin],
      { reject: false, env: { NO_COLOR: "1", BOOTMEDIA_CACHE: fx.cache }, timeout: 40_000, killSignal: "SIGKILL" },
    );
    let stderr = "";
    await new Promise<void>((resolve) =>
      child.stderr!.on("data", (d: Buffer) => ((stderr += d), /\[resolve\] started/.test(stderr) && resolve())),
    );
    await new Promise((r) => setTimeout(r, 500));
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 1500));
    child.kill("SIGINT");
    const r = await child;
    expect(r.timedOut, "still running after two SIGINTs").toBe(false);
    expect(r.signal === "SIGINT" || r.exitCode === 130).toBe(true);
    expect(String(r.stderr)).toMatch(/BM4003/);
    expect(String(r.stdout)).not.toMatch(/wrote/);
  }, 60_000);
});

describe("one log per output", () => {
  it("names the log after the output, and a failed build leaves it alone", async () => {
    const out = join(fx.dir, "logs/m1");
    const ok = await bootmedia(["build", fx.spec("sample-dir.yaml"), "--out", out, "--quiet"], {
      env: { BOOTMEDIA_CACHE: fx.cache },
    });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`log: ${out}.bootmedia.log`);
    const good = readFileSync(`${out}.bootmedia.log`, "utf8");
    expect(good).toMatch(/build succeeded/);
    const bad = await bootmedia(
      ["build", fx.spec("sample-dir.yaml"), "--out", out, "--force", "--boot-image", "NOPE", "--quiet"],
      { env: { BOOTMEDIA_CACHE: fx.cache } },
    );
    expect(bad.exitCode).toBe(1);
    expect(readFileSync(`${out}.bootmedia.log`, "utf8")).toBe(good);
    expect(readFileSync(`${out}.failed.bootmedia.log`, "utf8")).toMatch(/\[failed\] BM2002/);
    expect(existsSync(join(fx.dir, "logs/bootmedia.log"))).toBe(false);
    const other = await bootmedia(["build", fx.spec("sample-dir.yaml"), "--out", join(fx.dir, "logs/m2"), "--quiet"], {
      env: { BOOTMEDIA_CACHE: fx.cache },
    });
    expect(other.exitCode, other.stderr).toBe(0);
    expect(readFileSync(`${out}.bootmedia.log`, "utf8")).toBe(good);
    expect(existsSync(join(fx.dir, "logs/m2.bootmedia.log"))).toBe(true);
  }, 120_000);
});
