/**
 * Before any test: the compiled CLI (dist/) is brought up to date when a source is newer,
 * so tests that run `bin/bootmedia.js` test what users run. Each run gets an id its workers
 * inherit, under which the reference boot images are checked once (reference-fixtures.ts).
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SOURCES = [
  "base",
  "formats",
  "core",
  "plugins",
  "backends",
  "testbed",
  "api",
  "cli",
  "native/copy-range",
  "tsconfig.json",
  "tsconfig.build.json",
  "package.json",
  "scripts/vendor-bundle.mjs",
];

function newest(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const e of readdirSync(path))
    if (e !== "node_modules" && e !== "build") max = Math.max(max, newest(join(path, e)));
  return max;
}

/** Inherited by the run's workers (vitest forks them after the global set-up). */
export const TEST_RUN_ENV = "BOOTMEDIA_TEST_RUN";

/** Left by the run's first reference-images check (testing/reference-fixtures.ts). */
export function checkedRunMarker(run: string): string {
  return join(ROOT, "fixtures/boot-images/build/checked-runs", `${run}.json`);
}

export default function setup(): () => void {
  const run = (process.env[TEST_RUN_ENV] ||= randomUUID());
  buildDist();
  return () => rmSync(checkedRunMarker(run), { force: true });
}

function buildDist(): void {
  const built = statSync(join(ROOT, "dist/.tsbuildinfo"), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (Math.max(...SOURCES.map((s) => newest(join(ROOT, s)))) <= built) return;
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json")],
    { stdio: "inherit", cwd: ROOT },
  );
  execFileSync(process.execPath, [join(ROOT, "scripts/vendor-bundle.mjs")], { stdio: "inherit", cwd: ROOT });
}
