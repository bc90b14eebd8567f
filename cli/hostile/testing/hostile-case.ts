/**
 * The hostile-input suite's runner: each case runs the real CLI from a fresh scratch copy
 * of the fixtures, with its own TMPDIR, and is held to the same rules: the exit status and
 * BM code it expects, a hint, no stack trace, no secret echoed (stdout, stderr, any file
 * left), nothing written or damaged in the scratch folder, no temporary left, done in time.
 */
import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { expect } from "vitest";
import { BIN, scratchFixtures } from "../../../testing/cli.ts";

export type Fixture = Awaited<ReturnType<typeof scratchFixtures>> & { tmp: string; sample: string };

export interface HostileCase {
  name: string;
  /** Prepares the scratch folder; returns the CLI arguments. */
  setup: (fx: Fixture) => string[] | Promise<string[]>;
  env?: (fx: Fixture) => Record<string, string>;
  /** Shell prefix run before exec'ing the CLI (e.g. `ulimit -f 100`). */
  shell?: string;
  exit: number;
  /** The BM code the output must carry (with a hint), or undefined for none. */
  code?: string;
  /** Strings that must appear nowhere: stdout, stderr, files left in the scratch folder. */
  secrets?: string[];
  /** Extra checks on the outcome. */
  check?: (r: Outcome, fx: Fixture) => void;
  /** Time bound in ms (default 45 s: a hang detector on a loaded 2-core machine, not a benchmark). */
  within?: number;
  /** Paths (relative to the scratch folder) a case may create: e.g. a good build's output. */
  mayWrite?: RegExp;
}

export interface Outcome {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Where tsx keeps compiled sources: shared by every case, so each run starts warm. */
const TSX_CACHE = join(tmpdir(), `tsx-${process.getuid?.() ?? 0}`);

export async function fixture(): Promise<Fixture> {
  const fx = await scratchFixtures();
  const tmp = join(fx.dir, "..", `${fx.dir.split("/").pop()}-tmp`);
  mkdirSync(tmp);
  try {
    symlinkSync(TSX_CACHE, join(tmp, `tsx-${process.getuid?.() ?? 0}`));
  } catch {
    /* no shared cache: the case compiles cold */
  }
  return { ...fx, tmp, sample: fx.spec("sample-dir.yaml") };
}

/** Every path under `dir` with its type, size and mtime (the cache and failed-build logs aside). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      if (path === "cache" || name.endsWith(".failed.bootmedia.log")) continue;
      const st = lstatSync(join(dir, path));
      out.set(path, `${st.mode}:${st.size}:${st.mtimeMs}:${st.rdev}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk("");
  return out;
}

/** The text of every file the run created or changed (the case's own inputs may hold the secret). */
function newFilesText(dir: string, before: Map<string, string>): string {
  let text = "";
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, path));
      if (st.isDirectory()) walk(path);
      else if (
        st.isFile() &&
        st.size < 4 << 20 &&
        before.get(path) !== `${st.mode}:${st.size}:${st.mtimeMs}:${st.rdev}`
      )
        text += readFileSync(join(dir, path), "latin1");
    }
  };
  walk("");
  return text;
}

export async function runHostile(c: HostileCase): Promise<void> {
  const fx = await fixture();
  try {
    const args = await c.setup(fx);
    const before = snapshot(fx.dir);
    const env = { NO_COLOR: "1", TMPDIR: fx.tmp, BOOTMEDIA_CACHE: fx.cache, ...(c.env?.(fx) ?? {}) };
    const within = c.within ?? 45_000;
    const cmd = c.shell
      ? (["bash", ["-c", `${c.shell}; exec node "$@"`, "bash", BIN, ...args]] as const)
      : (["node", [BIN, ...args]] as const);
    const t0 = performance.now();
    const r = await execa(cmd[0], [...cmd[1]], {
      reject: false,
      cwd: fx.dir,
      env,
      timeout: within,
      killSignal: "SIGKILL",
    });
    const o: Outcome = {
      exitCode: r.exitCode,
      signal: r.signal ?? undefined,
      stdout: String(r.stdout),
      stderr: String(r.stderr),
      ms: performance.now() - t0,
    };
    const all = `${o.stdout}\n${o.stderr}`;
    expect(r.timedOut, `finished within ${within} ms`).toBe(false);
    expect(o.exitCode, all).toBe(c.exit);
    if (c.code) {
      expect(all).toMatch(new RegExp(`\\b${c.code}\\b`));
      // Text (`hint: …`) or --json (`"hint": "…"`), never empty.
      expect(all, "a hint that says something").toMatch(/hint(: |": ")[^\s"]/);
      expect(all, "no empty hint").not.toMatch(/hint:\s*$|"hint": ""/m);
    }
    expect(all, "no stack trace").not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(all, "no internal error").not.toMatch(/internal error/);
    const left = newFilesText(fx.dir, before);
    for (const s of c.secrets ?? []) {
      expect(all.includes(s), `secret ${s} echoed`).toBe(false);
      expect(left.includes(s), `secret ${s} in a file`).toBe(false);
    }
    const after = snapshot(fx.dir);
    for (const [p, v] of after) {
      if (c.mayWrite?.test(p)) continue;
      expect(before.get(p), `${p} written or changed`).toBe(v);
    }
    for (const p of before.keys()) expect(after.has(p), `${p} removed`).toBe(true);
    expect(
      [...after.keys()].filter((p) => p.includes(".bootmedia-")),
      "temporaries left in the output folder",
    ).toEqual([]);
    expect(
      readdirSync(fx.tmp).filter((n) => n.startsWith("bootmedia-")),
      "temporaries left in TMPDIR",
    ).toEqual([]);
    c.check?.(o, fx);
  } finally {
    execFileSync("chmod", ["-R", "u+rwx", fx.dir]);
    rmSync(fx.dir, { recursive: true, force: true });
    rmSync(fx.tmp, { recursive: true, force: true });
  }
}
