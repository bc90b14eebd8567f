/** Hostile outputs: device nodes, FIFOs, sockets, wrong kinds, long names, unwritable places. */
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { BIN } from "../../testing/cli.ts";
import { fixture, runHostile, type HostileCase } from "./testing/hostile-case.ts";
import { mkfifo, mknod, mksocket, plugin } from "./testing/make.ts";

const build = (spec: string, ...rest: string[]) => ["build", spec, "--quiet", ...rest];
const special = (kind: string) => (r: { stderr: string }) => expect(r.stderr).toContain(kind);

const CASES: HostileCase[] = [
  {
    name: "iso over a character device (a /dev/null twin)",
    setup: (fx) => build(fx.sample, "--target", "iso", "--out", mknod(join(fx.dir, "dev/null"), "c", 1, 3)),
    exit: 1,
    code: "BM1016",
  },
  {
    name: "iso over a /dev/null twin with --force: refused, and the hint never says --force",
    setup: (fx) => build(fx.sample, "--target", "iso", "--force", "--out", mknod(join(fx.dir, "dev/null"), "c", 1, 3)),
    exit: 1,
    code: "BM1016",
    check: (r, fx) => {
      expect(r.stderr).not.toMatch(/hint:.*--force/);
      expect(lstatSync(join(fx.dir, "dev/null")).isCharacterDevice()).toBe(true);
    },
  },
  {
    name: "iso over a block device node",
    setup: (fx) => build(fx.sample, "--target", "iso", "--out", mknod(join(fx.dir, "dev/sdz"), "b", 7, 250)),
    exit: 1,
    code: "BM1016",
    check: special("block device"),
  },
  {
    name: "directory over a block device node with --force",
    setup: (fx) => build(fx.sample, "--force", "--out", mknod(join(fx.dir, "dev/sdz"), "b", 7, 250)),
    exit: 1,
    code: "BM1016",
  },
  {
    name: "usb over a character device",
    setup: (fx) => build(fx.sample, "--target", "usb", "--force", "--out", mknod(join(fx.dir, "dev/zero"), "c", 1, 5)),
    exit: 1,
    code: "BM1016",
  },
  {
    name: "usb over a FIFO",
    setup: (fx) => build(fx.sample, "--target", "usb", "--out", mkfifo(join(fx.dir, "x.img"))),
    exit: 1,
    code: "BM1016",
    check: special("FIFO"),
  },
  {
    name: "iso over a FIFO with --force",
    setup: (fx) => build(fx.sample, "--target", "iso", "--force", "--out", mkfifo(join(fx.dir, "x.iso"))),
    exit: 1,
    code: "BM1016",
  },
  {
    name: "directory over a FIFO with --force",
    setup: (fx) => build(fx.sample, "--force", "--out", mkfifo(join(fx.dir, "m"))),
    exit: 1,
    code: "BM1016",
  },
  {
    name: "iso over a socket with --force",
    setup: (fx) => build(fx.sample, "--target", "iso", "--force", "--out", mksocket(join(fx.dir, "s.iso"))),
    exit: 1,
    code: "BM1016",
    check: special("socket"),
  },
  {
    name: "iso over an existing folder with --force",
    setup: (fx) => {
      mkdirSync(join(fx.dir, "keep"));
      writeFileSync(join(fx.dir, "keep/file"), "mine");
      return build(fx.sample, "--target", "iso", "--force", "--out", join(fx.dir, "keep"));
    },
    exit: 1,
    code: "BM1012",
  },
  {
    name: "usb over an existing folder",
    setup: (fx) => (mkdirSync(join(fx.dir, "d")), build(fx.sample, "--target", "usb", "--out", join(fx.dir, "d"))),
    exit: 1,
    code: "BM1012",
  },
  {
    name: "directory over an existing file with --force",
    setup: (fx) => (writeFileSync(join(fx.dir, "f"), "mine"), build(fx.sample, "--force", "--out", join(fx.dir, "f"))),
    exit: 1,
    code: "BM1012",
  },
  {
    name: "existing output without --force",
    setup: (fx) => (
      writeFileSync(join(fx.dir, "x.iso"), "old"), build(fx.sample, "--target", "iso", "--out", join(fx.dir, "x.iso"))
    ),
    exit: 1,
    code: "BM1010",
  },
  {
    name: "a 300-character name, directory target",
    setup: (fx) => build(fx.sample, "--out", join(fx.dir, "n".repeat(300))),
    exit: 1,
    code: "BM4001",
  },
  {
    name: "a 300-character name, iso target",
    setup: (fx) => build(fx.sample, "--target", "iso", "--out", join(fx.dir, `${"n".repeat(296)}.iso`)),
    exit: 1,
    code: "BM4001",
  },
  {
    name: "a 250-byte name (its temporary would not fit)",
    setup: (fx) => build(fx.sample, "--out", join(fx.dir, "é".repeat(125))),
    exit: 1,
    code: "BM4001",
  },
  {
    name: "output in /proc",
    setup: (fx) => build(fx.sample, "--target", "iso", "--out", "/proc/bootmedia-hostile.iso"),
    exit: 1,
    code: "BM4001",
    check: () => expect(existsSync("/proc/bootmedia-hostile.iso")).toBe(false),
  },
  {
    name: "output below a regular file",
    setup: (fx) => (
      writeFileSync(join(fx.dir, "plain"), "x"),
      build(fx.sample, "--target", "iso", "--out", join(fx.dir, "plain/x.iso"))
    ),
    exit: 1,
    code: "BM4001",
  },
  {
    name: "usb to a drive that is not there",
    setup: (fx) => build(fx.sample, "--target", "usb", "--out", "/dev/bm-hostile-nodrive"),
    exit: 1,
    code: "BM3306",
    check: () => expect(existsSync("/dev/bm-hostile-nodrive")).toBe(false),
  },
  {
    name: "iso to a name directly in /dev",
    setup: (fx) => build(fx.sample, "--target", "iso", "--out", "/dev/bm-hostile-x"),
    exit: 1,
    code: "BM1016",
    check: () => expect(existsSync("/dev/bm-hostile-x")).toBe(false),
  },
  {
    name: "usb to an image file under /dev/shm is an image, not a drive",
    setup: (fx) =>
      build(
        fx.sample,
        "--target",
        "usb",
        "--out",
        `/dev/shm/bm-hostile-${process.pid}-${Math.random().toString(36).slice(2)}.img`,
      ),
    exit: 0,
    code: "BM3010",
    check: (r) => {
      const out = /wrote (\S+)/.exec(r.stdout)?.[1];
      expect(out && lstatSync(out).isFile()).toBe(true);
      if (out) for (const f of [out, `${out}.bootmedia.log`]) rmSync(f, { force: true });
    },
  },
];

describe("hostile outputs", () => {
  test.each(CASES)("$name", (c) => runHostile(c), 60_000);
});

/**
 * Builds racing for one new output: a barrier plugin holds each build just before it writes
 * until all have passed the up-front "output exists" check, so every one reaches its final
 * rename believing the output free. Exactly one may claim it; the others end BM1010.
 */
describe("concurrent builds to one new output", () => {
  const N = 3;
  const barrier = (dir: string) =>
    `b.hooks.beforeWrite.tapPromise("Barrier", async () => {
      const fs = await import("node:fs");
      fs.writeFileSync(${JSON.stringify(dir)} + "/ready-" + process.pid, "");
      while (fs.readdirSync(${JSON.stringify(dir)}).length < ${N}) await new Promise((r) => setTimeout(r, 20));
    });`;
  const varsOf = (target: string, out: string): string | undefined => {
    const text =
      target === "iso"
        ? execFileSync("isoinfo", ["-R", "-i", out, "-x", "/bootmedia/media.json"], { encoding: "utf8" })
        : readFileSync(join(out, "bootmedia/media.json"), "utf8");
    return (JSON.parse(text) as { variables?: Record<string, string> }).variables?.BUILD;
  };

  test.each(["directory", "iso"])(
    "%s target: one succeeds, the others end BM1010, the output is the winner's",
    async (target) => {
      const fx = await fixture();
      try {
        mkdirSync(join(fx.dir, "barrier"));
        const p = plugin(fx.dir, "Barrier", barrier(join(fx.dir, "barrier")));
        const out = join(fx.dir, "out", target === "iso" ? "x.iso" : "m");
        const env = { NO_COLOR: "1", TMPDIR: fx.tmp, BOOTMEDIA_CACHE: fx.cache };
        const runs = await Promise.all(
          Array.from({ length: N }, (_, i) =>
            execa(
              "node",
              [BIN, "build", fx.sample, "--target", target, "--out", out, "--plugin", p, "--var", `BUILD=${i}`],
              { reject: false, cwd: fx.dir, env, timeout: 120_000 },
            ),
          ),
        );
        const all = runs.map((r) => `${r.stdout}\n${r.stderr}`).join("\n---\n");
        const winners = runs.flatMap((r, i) => (r.exitCode === 0 ? [i] : []));
        expect(winners, all).toHaveLength(1);
        for (const r of runs.filter((r) => r.exitCode !== 0)) {
          expect(r.exitCode, all).toBe(1);
          expect(r.stderr).toMatch(/error BM1010 .*exists[^]*hint: /);
        }
        expect(varsOf(target, out)).toBe(String(winners[0]));
        const inspected = await execa("node", [BIN, "inspect", out, "--json"], { reject: false, env });
        expect(JSON.parse(inspected.stdout).ok, inspected.stderr).toBe(true);
        const left = readdirSync(join(fx.dir, "out")).sort();
        expect(left).toEqual(
          [
            basename(out),
            `${basename(out)}.bootmedia.log`,
            `${basename(out)}.failed.bootmedia.log`,
            // The winner's SBOM and provenance (plugins/sbom): written only by the build that placed the output.
            `${basename(out)}.cdx.json`,
            `${basename(out)}.intoto.json`,
          ].sort(),
        );
        expect(
          readdirSync(fx.tmp).filter((n) => n.startsWith("bootmedia-")),
          "temporaries left in TMPDIR",
        ).toEqual([]);
      } finally {
        execFileSync("chmod", ["-R", "u+rwx", fx.dir]);
        rmSync(fx.dir, { recursive: true, force: true });
        rmSync(fx.tmp, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
