/** Links and special files in input folders: prestart files, content library files, image folders. */
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runHostile, type HostileCase } from "./testing/hostile-case.ts";
import { file, link, mkfifo } from "./testing/make.ts";

const OUTSIDE = "OUTSIDE-SECRET-9f2c";
const build = (spec: string, ...rest: string[]) => ["build", spec, "--quiet", ...rest];
const prestart = (fx: { dir: string }) => join(fx.dir, "fixtures/specs/prestart");
const libFile = (fx: { dir: string }) => {
  const dir = join(fx.dir, "fixtures/content/packages/BM100001/files/boot/x64");
  return join(dir, readdirSync(dir).sort()[0]!);
};
const imageDir = (fx: { dir: string }) => {
  file(join(fx.dir, "img/a.txt"), "a\n");
  return join(fx.dir, "img");
};
const names = (r: { stderr: string }, what: string) => expect(r.stderr).toContain(what);
/** Runs the CLI as root without its capabilities: file permissions then apply to it as to any user. */
const NO_ROOT_POWERS = `exec setpriv --bounding-set=-all --inh-caps=-all ${process.execPath} "$@"`;
/** The user's own file is named, and no plugin is blamed for it. */
const userFile = (what: string) => (r: { stderr: string }) => {
  expect(r.stderr).toContain(what);
  expect(r.stderr).not.toMatch(/PrestartPlugin|plugin "/);
};

const CASES: HostileCase[] = [
  {
    name: "prestart link to a file outside",
    setup: (fx) => (link(file(join(fx.dir, "outside.txt"), OUTSIDE), join(prestart(fx), "link")), build(fx.sample)),
    exit: 1,
    code: "BM2009",
    check: (r) => names(r, "prestart/link"),
  },
  {
    name: "prestart link to /etc/passwd",
    setup: (fx) => (link("/etc/passwd", join(prestart(fx), "passwd")), build(fx.sample)),
    exit: 1,
    code: "BM2009",
    check: (r) => names(r, "prestart/passwd"),
  },
  {
    name: "prestart folder loop sub/loop -> ..",
    setup: (fx) => (link("..", join(prestart(fx), "sub/loop")), build(fx.sample)),
    exit: 1,
    code: "BM2009",
    check: (r) => names(r, "sub/loop"),
  },
  {
    name: "prestart self-referencing link",
    setup: (fx) => (link("self", join(prestart(fx), "self")), build(fx.sample)),
    exit: 1,
    code: "BM2009",
    check: (r) => names(r, "loop"),
  },
  {
    name: "prestart dangling link",
    setup: (fx) => (link("/nonexistent/bm", join(prestart(fx), "dangling")), build(fx.sample)),
    exit: 1,
    code: "BM2009",
  },
  {
    name: "prestart link to a folder inside",
    setup: (fx) => (file(join(prestart(fx), "d/x"), "x"), link("d", join(prestart(fx), "alias")), build(fx.sample)),
    exit: 1,
    code: "BM2009",
  },
  {
    name: "prestart file unreadable (EACCES)",
    setup: (fx) => (chmodSync(file(join(prestart(fx), "secret.txt"), "x"), 0o000), build(fx.sample)),
    shell: NO_ROOT_POWERS,
    exit: 1,
    code: "BM2011",
    check: userFile("prestart/secret.txt"),
  },
  {
    name: "prestart subfolder unreadable (EACCES)",
    setup: (fx) => (
      file(join(prestart(fx), "sub/a.txt"), "a"), chmodSync(join(prestart(fx), "sub"), 0o000), build(fx.sample)
    ),
    shell: NO_ROOT_POWERS,
    exit: 1,
    code: "BM2011",
    check: userFile("prestart/sub"),
  },
  {
    name: "prestart FIFO",
    setup: (fx) => (mkfifo(join(prestart(fx), "pipe")), build(fx.sample)),
    exit: 1,
    code: "BM2009",
  },
  {
    name: "prestart link to a file inside is read as that file",
    setup: (fx) => (link("check.sh", join(prestart(fx), "again.sh")), build(fx.sample, "--out", join(fx.dir, "m"))),
    exit: 0,
    code: "BM3010",
    mayWrite: /^m(\/|$)|^m\.(bootmedia\.log|cdx\.json|intoto\.json)$/,
  },
  {
    name: "library file linked outside the library",
    setup: (fx) => (linkOutside(libFile(fx), join(fx.dir, "lib-outside")), build(fx.sample)),
    exit: 1,
    code: "BM2009",
    check: (r) => names(r, "outside the content library"),
  },
  {
    // Without prestart files nothing else loads the input-folder codes: the hint came out empty.
    name: "library FIFO, spec without prestart",
    setup: (fx) => {
      const f = libFile(fx);
      rmSync(f);
      mkfifo(f);
      writeFileSync(fx.sample, readFileSync(fx.sample, "utf8").replace(/^  prestart:.*\n/m, ""));
      return build(fx.sample);
    },
    exit: 1,
    code: "BM2009",
    check: (r) => expect(r.stderr).toMatch(/hint: Input folders/),
  },
  {
    name: "library file replaced by a FIFO",
    setup: (fx) => {
      const f = libFile(fx);
      rmSync(f);
      mkfifo(f);
      return build(fx.sample);
    },
    exit: 1,
    code: "BM2009",
  },
  {
    name: "image fat: link leading outside",
    setup: (fx) => (
      link("/etc/passwd", join(imageDir(fx), "p")), ["image", "fat", join(fx.dir, "img"), "-o", join(fx.dir, "x.img")]
    ),
    exit: 1,
    code: "BM2009",
  },
  {
    name: "image iso: folder loop",
    setup: (fx) => (
      link("..", join(imageDir(fx), "s/loop")), ["image", "iso", join(fx.dir, "img"), "-o", join(fx.dir, "x.iso")]
    ),
    exit: 1,
    code: "BM2009",
  },
  {
    name: "image iso: FIFO",
    setup: (fx) => (
      mkfifo(join(imageDir(fx), "pipe")), ["image", "iso", join(fx.dir, "img"), "-o", join(fx.dir, "x.iso")]
    ),
    exit: 1,
    code: "BM2009",
  },
];

/** Replaces a library file by a link to a file outside the library. */
function linkOutside(f: string, outside: string): void {
  writeFileSync(outside, OUTSIDE);
  rmSync(f);
  link(outside, f);
}

describe("hostile input folders", () => {
  test.each(CASES)("$name", (c) => runHostile(c), 60_000);
});
