// Dead code stays out: knip (knip.json names the real entry points) finds exports, files and
// dependencies nothing uses; `npm run check:dead` prints them.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

test("no export, file or dependency that nothing uses (npm run check:dead)", () => {
  const r = spawnSync(`${ROOT}node_modules/.bin/knip`, ["--no-progress", "--no-config-hints"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(r.status, `knip found what nothing uses:\n${r.stdout}\n${r.stderr}`).toBe(0);
}, 120_000);
