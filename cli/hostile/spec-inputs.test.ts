/** Hostile spec files: FIFOs, devices, folders, huge files, alias bombs, node floods. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runHostile, type HostileCase } from "./testing/hostile-case.ts";
import { aliasBomb, file, link, mkfifo } from "./testing/make.ts";

/** A nesting refusal says so and names where the limit was passed (file:line:column). */
const nestingNamed = (r: { stderr: string }) => expect(r.stderr).toMatch(/deep\.(yaml|json):\d+:\d+.*nest/);

const CASES: HostileCase[] = [
  {
    name: "spec is a FIFO (no writer)",
    setup: (fx) => ["build", mkfifo(join(fx.dir, "spec.yaml"))],
    exit: 1,
    code: "BM1013",
  },
  {
    name: "spec is a link to a FIFO",
    setup: (fx) => ["plan", link(mkfifo(join(fx.dir, "fifo")), join(fx.dir, "spec.yaml"))],
    exit: 1,
    code: "BM1013",
  },
  { name: "spec is /dev/zero", setup: () => ["plan", "/dev/zero"], exit: 1, code: "BM1013" },
  {
    name: "spec is /dev/stdin (a socket under the test runner)",
    setup: () => ["plan", "/dev/stdin"],
    exit: 1,
    code: "BM10(01|13)",
  },
  {
    name: "spec is a folder",
    setup: (fx) => (mkdirSync(join(fx.dir, "spec.yaml")), ["plan", join(fx.dir, "spec.yaml")]),
    exit: 1,
    code: "BM1013",
  },
  { name: "spec does not exist", setup: (fx) => ["plan", join(fx.dir, "nope.yaml")], exit: 1, code: "BM1001" },
  {
    name: "spec of 50 MB",
    setup: (fx) => ["plan", file(join(fx.dir, "huge.yaml"), Buffer.alloc(50 << 20, 0x61))],
    exit: 1,
    code: "BM1014",
  },
  {
    name: "spec one byte over 1 MiB: sizes told apart",
    setup: (fx) => ["plan", file(join(fx.dir, "big.yaml"), `name: big\n#${"x".repeat((1 << 20) - 11)}\n`)],
    exit: 1,
    code: "BM1014",
    check: (r) => expect(r.stderr).toMatch(/is 1048577 bytes \(1 MiB\); the limit is 1048576 bytes \(1 MiB\)/),
  },
  {
    name: "YAML alias bomb (10^9 nodes)",
    setup: (fx) => ["plan", file(join(fx.dir, "bomb.yaml"), aliasBomb())],
    exit: 1,
    code: "BM1014",
  },
  {
    name: "120,000 YAML nodes in 720 KB",
    setup: (fx) => ["plan", file(join(fx.dir, "flood.yaml"), `name: flood\nlist:\n${"  - 1\n".repeat(120_000)}`)],
    exit: 1,
    code: "BM1014",
    within: 60_000,
  },
  {
    name: "spec of 1.5 MB of variables",
    setup: (fx) => [
      "plan",
      file(
        join(fx.dir, "vars.yaml"),
        `name: v\ncustomization:\n  variables:\n${Array.from({ length: 100_000 }, (_, i) => `    V${i}: x\n`).join("")}`,
      ),
    ],
    exit: 1,
    code: "BM1014",
  },
  {
    name: "duplicate keys among 20,000 variables (found linearly, located)",
    setup: (fx) => {
      const vars = Array.from({ length: 20_000 }, (_, i) => `    V${i}: x\n`).join("");
      return [
        "plan",
        file(join(fx.dir, "specs-dup.yaml"), `name: d\ncustomization:\n  variables:\n${vars}    V7: again\n`),
      ];
    },
    exit: 1,
    code: "BM1002",
    within: 60_000,
  },
  {
    name: "binary garbage spec",
    setup: (fx) => [
      "plan",
      file(join(fx.dir, "bin.yaml"), Buffer.from([0xff, 0xfe, 0, 1, 2, 0x7b, 0x5b, 0x3a, 0x0a, 0x2d])),
    ],
    exit: 1,
    code: "BM100\\d",
  },
  {
    name: "spec that is a list",
    setup: (fx) => ["plan", file(join(fx.dir, "list.yaml"), "- a\n- b\n")],
    exit: 1,
    code: "BM1002",
  },
  {
    name: "spec whose target output is a FIFO",
    setup: (fx) => {
      const spec = readFileSync(fx.sample, "utf8").replace("output: ../../out/contoso-x64", "output: ../../pipe");
      mkfifo(join(fx.dir, "pipe"));
      writeFileSync(fx.sample, spec);
      return ["build", fx.sample, "--force"];
    },
    exit: 1,
    code: "BM1016",
  },
  ...[900, 1000, 20_000, 100_000].map(
    (depth): HostileCase => ({
      name: `YAML nested ${depth} levels deep ([[…]])`,
      setup: (fx) => ["build", file(join(fx.dir, "deep.yaml"), `name: ${"[".repeat(depth)}${"]".repeat(depth)}\n`)],
      exit: 1,
      code: "BM1014",
      check: nestingNamed,
    }),
  ),
  ...[1000, 100_000].map(
    (depth): HostileCase => ({
      name: `JSON nested ${depth} levels deep`,
      setup: (fx) => ["build", file(join(fx.dir, "deep.json"), `{"name": ${"[".repeat(depth)}${"]".repeat(depth)}}\n`)],
      exit: 1,
      code: "BM1014",
      check: nestingNamed,
    }),
  ),
  {
    name: "YAML maps indented 1,400 deep",
    setup: (fx) => [
      "build",
      file(
        join(fx.dir, "deep.yaml"),
        `name: x\na:\n${Array.from({ length: 1400 }, (_, i) => `${" ".repeat(i + 1)}k:\n`).join("")}`,
      ),
    ],
    exit: 1,
    code: "BM1014",
    check: nestingNamed,
  },
  {
    name: "YAML lists - - - x, 5,000 deep",
    setup: (fx) => ["build", file(join(fx.dir, "deep.yaml"), `name: x\na:\n  ${"- ".repeat(5000)}x\n`)],
    exit: 1,
    code: "BM1014",
    check: nestingNamed,
  },
  { name: "unknown command", setup: () => ["frobnicate"], exit: 2, code: "BM1009" },
];

describe("hostile spec inputs", () => {
  test.each(CASES)("$name", (c) => runHostile(c), 60_000);
});
