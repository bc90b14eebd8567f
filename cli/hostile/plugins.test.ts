/** Hostile plugins: hooks that never settle, stuck timers, callbacks never called, throwing apply. */
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runHostile, type HostileCase } from "./testing/hostile-case.ts";
import { file, plugin } from "./testing/make.ts";

const withPlugin =
  (body: string, name = "HostilePlugin") =>
  (fx: { dir: string; sample: string }) => ["build", fx.sample, "--quiet", "--plugin", plugin(fx.dir, name, body)];
const FAST = () => ({ BOOTMEDIA_HOOK_TIMEOUT: "2" });
const blames = (plugin: string, hook: string) => (r: { stderr: string }) => {
  expect(r.stderr).toContain(plugin);
  expect(r.stderr).toContain(hook);
};

const CASES: HostileCase[] = [
  {
    name: "resolve tap that never settles",
    setup: withPlugin(`b.hooks.resolve.tapPromise("HostilePlugin", () => new Promise(() => {}));`),
    env: FAST,
    exit: 1,
    code: "BM4005",
    check: blames("HostilePlugin", "resolve"),
  },
  {
    name: "validate tap stuck on a live timer",
    setup: withPlugin(
      `b.hooks.validate.tapPromise("HostilePlugin", () => new Promise(() => { setInterval(() => {}, 1000); }));`,
    ),
    env: FAST,
    exit: 1,
    code: "BM4005",
    check: blames("HostilePlugin", "validate"),
  },
  {
    name: "tapAsync callback never called",
    setup: withPlugin(`b.hooks.afterResolve.tapAsync("HostilePlugin", (media, cb) => {});`),
    env: FAST,
    exit: 1,
    code: "BM4005",
    check: blames("HostilePlugin", "afterResolve"),
  },
  {
    name: "beforeWrite tap that never settles",
    setup: (fx) => [
      ...withPlugin(`b.hooks.beforeWrite.tapPromise("HostilePlugin", () => new Promise(() => {}));`)(fx),
      "--out",
      join(fx.dir, "m"),
    ],
    env: FAST,
    exit: 1,
    code: "BM4005",
  },
  // Before every built-in layout tap, so a slow built-in on a loaded machine is never the one timed.
  {
    name: "--hook-timeout 2 on the command line",
    setup: (fx) => [
      ...withPlugin(`b.hooks.layout.tapPromise({ name: "HostilePlugin", stage: -1000 }, () => new Promise(() => {}));`)(
        fx,
      ),
      "--hook-timeout",
      "2",
    ],
    exit: 1,
    code: "BM4005",
    check: blames("HostilePlugin", "layout"),
  },
  {
    name: "apply() throws",
    setup: withPlugin(`throw new Error("apply exploded");`),
    exit: 1,
    code: "BM4006",
    check: blames("HostilePlugin", "apply exploded"),
  },
  {
    name: "a hook throws",
    setup: withPlugin(
      `b.hooks.validate.tapPromise("HostilePlugin", async () => { throw new Error("validate exploded"); });`,
    ),
    exit: 1,
    code: "BM4004",
    check: blames("HostilePlugin", "validate"),
  },
  {
    name: "process.exit(0) in a hook",
    setup: withPlugin(
      `b.hooks.validate.tapPromise("HostilePlugin", async () => { await new Promise((r) => setTimeout(r, 10)); process.exit(0); });`,
    ),
    exit: 1,
    code: "BM4004",
    check: blames("HostilePlugin", "validate"),
  },
  {
    name: "process.exit(0) in a sync tap",
    setup: withPlugin(`b.hooks.afterResolve.tap("HostilePlugin", () => process.exit(0));`),
    exit: 1,
    code: "BM4004",
    check: blames("HostilePlugin", "afterResolve"),
  },
  {
    name: "process.exit(0) in apply()",
    setup: withPlugin(`process.exit(0);`),
    exit: 1,
    code: "BM4006",
    check: blames("HostilePlugin", "process.exit(0)"),
  },
  {
    // A timer of the plugin's ends the process while the writer fills the output's temporary:
    // no hook of the plugin runs then, so the blame is the place that called exit.
    name: "process.exit(0) from a timer mid-write",
    setup: (fx) => {
      file(join(fx.dir, "fixtures/specs/prestart/big/f"), Buffer.alloc(64 << 20, 1));
      const out = join(fx.dir, "m");
      const p = file(
        join(fx.dir, "HostilePlugin.mjs"),
        `import { readdirSync } from "node:fs";
export default class P {
  name = "HostilePlugin";
  apply(b) {
    b.hooks.beforeWrite.tap("HostilePlugin", () => {
      setInterval(() => { if (readdirSync(${JSON.stringify(fx.dir)}).some((n) => n.includes(".bootmedia-"))) process.exit(0); }, 2);
    });
  }
}
`,
      );
      return ["build", fx.sample, "--quiet", "--out", out, "--plugin", p];
    },
    exit: 1,
    code: "BM4004",
    check: (r) => expect(r.stderr).toMatch(/HostilePlugin\.mjs:\d+/),
  },
  {
    name: "process.exit(0) after a failed build",
    setup: withPlugin(
      `setTimeout(() => process.exit(0), 1500); b.hooks.validate.tapPromise("HostilePlugin", async () => { throw new Error("validate exploded"); });`,
    ),
    exit: 1,
    code: "BM4004",
    check: blames("HostilePlugin", "validate exploded"),
  },
  {
    name: "the same plugin twice",
    setup: (fx) => {
      const p = plugin(fx.dir, "Twice", "");
      return ["build", fx.sample, "--quiet", "--plugin", p, "--plugin", p];
    },
    exit: 1,
    code: "BM1008",
  },
  {
    name: "a plugin file that does not exist",
    setup: (fx) => ["build", fx.sample, "--quiet", "--plugin", join(fx.dir, "nope.mjs")],
    exit: 1,
    code: "BM1008",
  },
];

describe("hostile plugins", () => {
  test.each(CASES)("$name", (c) => runHostile(c), 60_000);
});
