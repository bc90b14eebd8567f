/** Hostile outputs: device nodes, FIFOs, sockets, wrong kinds, long names, unwritable places. */
import { existsSync, lstatSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runHostile, type HostileCase } from "./testing/hostile-case.ts";
import { mkfifo, mknod, mksocket } from "./testing/make.ts";

const build = (spec: string, ...rest: string[]) => ["build", spec, "--quiet", ...rest];
const special = (kind: string) => (r: { stderr: string }) => expect(r.stderr).toContain(kind);

const CASES: HostileCase[] = [
  { name: "iso over a character device (a /dev/null twin)", setup: (fx) => build(fx.sample, "--target", "iso", "--out", mknod(join(fx.dir, "dev/null"), "c", 1, 3)), exit: 1, code: "BM1016" },
  {
    name: "iso over a /dev/null twin with --force: refused, and the hint never says --force",
    setup: (fx) => build(fx.sample, "--target", "iso", "--force", "--out", mknod(join(fx.dir, "dev/null"), "c", 1, 3)),
    exit: 1, code: "BM1016",
    check: (r, fx) => {
      expect(r.stderr).not.toMatch(/hint:.*--force/);
      expect(lstatSync(join(fx.dir, "dev/null")).isCharacterDevice()).toBe(true);
    },
  },
  { name: "iso over a block device node", setup: (fx) => build(fx.sample, "--target", "iso", "--out", mknod(join(fx.dir, "dev/sdz"), "b", 7, 250)), exit: 1, code: "BM1016", check: special("block device") },
  { name: "directory over a block device node with --force", setup: (fx) => build(fx.sample, "--force", "--out", mknod(join(fx.dir, "dev/sdz"), "b", 7, 250)), exit: 1, code: "BM1016" },
  { name: "usb over a character device", setup: (fx) => build(fx.sample, "--target", "usb", "--force", "--out", mknod(join(fx.dir, "dev/zero"), "c", 1, 5)), exit: 1, code: "BM1016" },
  { name: "usb over a FIFO", setup: (fx) => build(fx.sample, "--target", "usb", "--out", mkfifo(join(fx.dir, "x.img"))), exit: 1, code: "BM1016", check: special("FIFO") },
  { name: "iso over a FIFO with --force", setup: (fx) => build(fx.sample, "--target", "iso", "--force", "--out", mkfifo(join(fx.dir, "x.iso"))), exit: 1, code: "BM1016" },
  { name: "directory over a FIFO with --force", setup: (fx) => build(fx.sample, "--force", "--out", mkfifo(join(fx.dir, "m"))), exit: 1, code: "BM1016" },
  { name: "iso over a socket with --force", setup: (fx) => build(fx.sample, "--target", "iso", "--force", "--out", mksocket(join(fx.dir, "s.iso"))), exit: 1, code: "BM1016", check: special("socket") },
  {
    name: "iso over an existing folder with --force",
    setup: (fx) => {
      mkdirSync(join(fx.dir, "keep"));
      writeFileSync(join(fx.dir, "keep/file"), "mine");
      return build(fx.sample, "--target", "iso", "--force", "--out", join(fx.dir, "keep"));
    },
    exit: 1, code: "BM1012",
  },
  { name: "usb over an existing folder", setup: (fx) => (mkdirSync(join(fx.dir, "d")), build(fx.sample, "--target", "usb", "--out", join(fx.dir, "d"))), exit: 1, code: "BM1012" },
  { name: "directory over an existing file with --force", setup: (fx) => (writeFileSync(join(fx.dir, "f"), "mine"), build(fx.sample, "--force", "--out", join(fx.dir, "f"))), exit: 1, code: "BM1012" },
  { name: "existing output without --force", setup: (fx) => (writeFileSync(join(fx.dir, "x.iso"), "old"), build(fx.sample, "--target", "iso", "--out", join(fx.dir, "x.iso"))), exit: 1, code: "BM1010" },
  { name: "a 300-character name, directory target", setup: (fx) => build(fx.sample, "--out", join(fx.dir, "n".repeat(300))), exit: 1, code: "BM4001" },
  { name: "a 300-character name, iso target", setup: (fx) => build(fx.sample, "--target", "iso", "--out", join(fx.dir, `${"n".repeat(296)}.iso`)), exit: 1, code: "BM4001" },
  { name: "a 250-byte name (its temporary would not fit)", setup: (fx) => build(fx.sample, "--out", join(fx.dir, "é".repeat(125))), exit: 1, code: "BM4001" },
  { name: "output in /proc", setup: (fx) => build(fx.sample, "--target", "iso", "--out", "/proc/bootmedia-hostile.iso"), exit: 1, code: "BM4001", check: () => expect(existsSync("/proc/bootmedia-hostile.iso")).toBe(false) },
  { name: "output below a regular file", setup: (fx) => (writeFileSync(join(fx.dir, "plain"), "x"), build(fx.sample, "--target", "iso", "--out", join(fx.dir, "plain/x.iso"))), exit: 1, code: "BM4001" },
  { name: "usb to a drive that is not there", setup: (fx) => build(fx.sample, "--target", "usb", "--out", "/dev/bm-hostile-nodrive"), exit: 1, code: "BM3306", check: () => expect(existsSync("/dev/bm-hostile-nodrive")).toBe(false) },
  { name: "iso to a name directly in /dev", setup: (fx) => build(fx.sample, "--target", "iso", "--out", "/dev/bm-hostile-x"), exit: 1, code: "BM1016", check: () => expect(existsSync("/dev/bm-hostile-x")).toBe(false) },
  {
    name: "usb to an image file under /dev/shm is an image, not a drive",
    setup: (fx) => build(fx.sample, "--target", "usb", "--out", `/dev/shm/bm-hostile-${process.pid}-${Math.random().toString(36).slice(2)}.img`),
    exit: 0, code: "BM3010",
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
