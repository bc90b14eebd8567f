// One formatter decides layout (Biome, biome.json): `npm run format` rewrites, this test
// fails on any file the formatter would change, so reviews talk about names, not spaces.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

test("every source file is as the formatter writes it (npm run format)", () => {
  const r = spawnSync(`${ROOT}node_modules/.bin/biome`, ["format", "--colors=off", "--max-diagnostics=20", "."], {
    cwd: ROOT,
    encoding: "utf8",
  });
  const out = `${r.stdout}\n${r.stderr}`;
  expect(r.status, `run \`npm run format\`; the formatter would change:\n${out}`).toBe(0);
  // It looked at the tree (a configuration that matched no file would pass as well).
  expect(Number(/Checked (\d+) files/.exec(out)?.[1] ?? 0)).toBeGreaterThan(300);
});
