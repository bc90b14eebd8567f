/**
 * Before any test: the compiled CLI (dist/) is brought up to date when a source is newer,
 * so tests that run `bin/bootmedia.js` test what users run.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
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

export default function setup(): void {
  const built = statSync(join(ROOT, "dist/.tsbuildinfo"), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (Math.max(...SOURCES.map((s) => newest(join(ROOT, s)))) <= built) return;
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json")],
    { stdio: "inherit", cwd: ROOT },
  );
  execFileSync(process.execPath, [join(ROOT, "scripts/vendor-bundle.mjs")], { stdio: "inherit", cwd: ROOT });
}
