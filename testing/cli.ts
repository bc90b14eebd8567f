/** Helpers for tests that run the real CLI in a child process. */
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const BIN = join(ROOT, "bin/bootmedia.js");

/** Runs `bootmedia args...`; never throws on a non-zero exit. */
export async function bootmedia(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  const r = await execa("node", [BIN, ...args], { reject: false, cwd: opts.cwd, env: { NO_COLOR: "1", ...opts.env } });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A scratch copy of fixtures/ (specs resolve ../content and ../../out relative to it). */
export async function scratchFixtures(): Promise<{
  dir: string;
  spec: (name: string) => string;
  out: (name: string) => string;
  cache: string;
}> {
  const dir = await mkdtemp(join(tmpdir(), "bm-cli-"));
  await cp(join(ROOT, "fixtures/specs"), join(dir, "fixtures/specs"), { recursive: true });
  await cp(join(ROOT, "fixtures/content"), join(dir, "fixtures/content"), { recursive: true });
  await cp(join(ROOT, "fixtures/plugins"), join(dir, "fixtures/plugins"), { recursive: true });
  return {
    dir,
    spec: (name) => join(dir, "fixtures/specs", name),
    out: (name) => join(dir, "out", name),
    cache: join(dir, "cache"),
  };
}
