/**
 * What `npm test` does first (npm runs it as `pretest`): installs the Debian packages the
 * tests need through the doctor (`bootmedia doctor --install --for tests`), builds the
 * native copy helper if `npm ci` could not, and builds the reference boot images when the
 * cache lacks them. When something cannot be installed it stops at once with one message
 * naming each missing tool and its package, instead of dozens of unrelated test failures.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { isBootmediaError } from "../base/errors.ts";
import { installMissing, systemHost } from "../core/doctor-install.ts";
import { ensureReferenceImages } from "./reference-images.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NATIVE = fileURLToPath(new URL("../native/copy-range/build/Release/copy_range.node", import.meta.url));
const say = (line: string) => process.stdout.write(`test setup: ${line}\n`);

async function setUp(): Promise<void> {
  const { installed } = await installMissing(systemHost(["tests"]), say);
  say(installed.length ? `installed ${installed.join(" ")}` : "every Debian package the tests need is installed");
  if (!existsSync(NATIVE)) {
    say("building the native copy helper (npm ci could not: no compiler then)");
    await execa(process.execPath, ["scripts/build-native.mjs"], { cwd: ROOT, stdio: "inherit" });
    if (!existsSync(NATIVE))
      throw new Error(
        "the native copy helper did not build: run `node scripts/build-native.mjs` to see why (node-gyp needs build-essential, python3 and Node's headers)",
      );
  }
  const { built } = await ensureReferenceImages((l) => say(l));
  say(built ? "reference boot images built" : "reference boot images up to date");
}

setUp().then(
  () => process.exit(0),
  (e: unknown) => {
    const text = isBootmediaError(e)
      ? `error ${e.code}: ${e.message}\n  hint: ${e.hint}`
      : e instanceof Error
        ? e.message
        : String(e);
    process.stderr.write(`test setup: cannot run the tests.\n${text}\n`);
    process.exit(1);
  },
);
