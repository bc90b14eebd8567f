/** Hostile option values and environments: concurrency, cache, TMPDIR, file size limits, hook limits. */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, test } from "vitest";
import { BIN, ROOT } from "../../testing/cli.ts";
import { runHostile, type HostileCase } from "./testing/hostile-case.ts";

// The boot loader (GRUB's files) is built into the cache on first use. Cases about a limit on the
// output or on content start with it built, so the write they aim at is the first to meet the limit.
const WARM_LOADER = mkdtempSync(join(tmpdir(), "bm-loader-"));
const warm = () => ({ BOOTMEDIA_BOOT_LOADER_CACHE: WARM_LOADER });

const build = (spec: string, ...rest: string[]) => ["build", spec, "--quiet", ...rest];

/** Runs the CLI as root without its capabilities: file permissions then apply to it as to any user. */
const NO_ROOT_POWERS = `exec setpriv --bounding-set=-all --inh-caps=-all ${process.execPath} "$@"`;

/** Prestart files of `kib` KiB each, added to the sample spec's prestart folder. */
const prestartFiles = (fx: { dir: string }, kib: number, count: number) => {
  mkdirSync(join(fx.dir, "fixtures/specs/prestart/big"), { recursive: true });
  for (let i = 0; i < count; i++)
    writeFileSync(join(fx.dir, `fixtures/specs/prestart/big/f${i}`), randomBytes(kib << 10));
};
/** No temporary left in the cache (a write cut short by the size limit). */
const cacheClean = (_r: unknown, fx: { cache: string }) => {
  const left = existsSync(fx.cache)
    ? readdirSync(fx.cache, { recursive: true })
        .map(String)
        .filter((p) => /\.tmp\b|\.tmp-/.test(p))
    : [];
  expect(left, "temporaries left in the cache").toEqual([]);
};

const CASES: HostileCase[] = [
  { name: "--concurrency 0", setup: (fx) => build(fx.sample, "--concurrency", "0"), exit: 1, code: "BM1015" },
  { name: "--concurrency abc", setup: (fx) => build(fx.sample, "--concurrency", "abc"), exit: 1, code: "BM1015" },
  { name: "--concurrency 1.5", setup: (fx) => build(fx.sample, "--concurrency", "1.5"), exit: 1, code: "BM1015" },
  { name: "--concurrency 100000", setup: (fx) => build(fx.sample, "--concurrency", "100000"), exit: 1, code: "BM1015" },
  { name: "--hook-timeout 0", setup: (fx) => build(fx.sample, "--hook-timeout", "0"), exit: 1, code: "BM1015" },
  {
    name: "BOOTMEDIA_HOOK_TIMEOUT=soon",
    setup: (fx) => build(fx.sample),
    env: () => ({ BOOTMEDIA_HOOK_TIMEOUT: "soon" }),
    exit: 1,
    code: "BM1015",
  },
  {
    name: "BOOTMEDIA_CACHE points at a file",
    setup: (fx) => (writeFileSync(join(fx.dir, "cachefile"), "x"), build(fx.sample)),
    env: (fx) => ({ BOOTMEDIA_CACHE: join(fx.dir, "cachefile") }),
    exit: 1,
    code: "BM2010",
  },
  {
    name: "--cache-dir below a file",
    setup: (fx) => (
      writeFileSync(join(fx.dir, "cachefile"), "x"), build(fx.sample, "--cache-dir", join(fx.dir, "cachefile/sub"))
    ),
    exit: 1,
    code: "BM2010",
  },
  {
    name: "TMPDIR=/proc, iso target",
    setup: (fx) => build(fx.sample, "--target", "iso", "--out", join(fx.dir, "x.iso")),
    env: () => ({ TMPDIR: "/proc" }),
    exit: 1,
    code: "BM4007",
  },
  {
    name: "TMPDIR missing, usb target",
    setup: (fx) => build(fx.sample, "--target", "usb", "--out", join(fx.dir, "x.img")),
    env: (fx) => ({ TMPDIR: join(fx.dir, "no/such/tmp") }),
    exit: 1,
    code: "BM4007",
  },
  {
    name: "TMPDIR is a file, iso target",
    setup: (fx) => (
      writeFileSync(join(fx.dir, "tmpfile"), ""), build(fx.sample, "--target", "iso", "--out", join(fx.dir, "x.iso"))
    ),
    env: (fx) => ({ TMPDIR: join(fx.dir, "tmpfile") }),
    exit: 1,
    code: "BM4007",
  },
  {
    name: "a file on PATH (PATH=/etc/hostname:…)",
    setup: (fx) => build(fx.sample, "--out", join(fx.dir, "m")),
    env: (fx) => ({ ...warm(), PATH: `/etc/hostname:${process.env.PATH}` }),
    exit: 0,
    mayWrite: /^m(\/|\.(bootmedia\.log|cdx\.json|intoto\.json)$|$)/,
  },
  {
    name: "an unreadable folder on PATH (EACCES)",
    setup: (fx) => (mkdirSync(join(fx.dir, "locked"), { mode: 0o000 }), build(fx.sample, "--out", join(fx.dir, "m"))),
    env: (fx) => ({ ...warm(), PATH: `${join(fx.dir, "locked")}:${process.env.PATH}` }),
    shell: NO_ROOT_POWERS,
    exit: 0,
    mayWrite: /^m(\/|\.(bootmedia\.log|cdx\.json|intoto\.json)$|$)/,
  },
  { name: "TMPDIR=/proc, --version", setup: () => ["--version"], env: () => ({ TMPDIR: "/proc" }), exit: 0 },
  {
    name: "ulimit -f 100, iso target (EFBIG)",
    setup: (fx) => build(fx.sample, "--target", "iso", "--out", join(fx.dir, "x.iso")),
    shell: "ulimit -f 100",
    env: warm,
    exit: 1,
    code: "BM4001",
  },
  {
    name: "ulimit -f 100, usb target (EFBIG)",
    setup: (fx) => build(fx.sample, "--target", "usb", "--out", join(fx.dir, "x.img")),
    shell: "ulimit -f 100",
    env: warm,
    exit: 1,
    code: "BM4(001|202)",
  },
  {
    name: "ulimit -f 4: a cache write over the limit",
    setup: (fx) => (
      mkdirSync(join(fx.dir, "fixtures/specs/prestart/big"), { recursive: true }),
      writeFileSync(join(fx.dir, "fixtures/specs/prestart/big/f"), Buffer.alloc(8192)),
      build(fx.sample, "--out", join(fx.dir, "m"))
    ),
    shell: "ulimit -f 4",
    env: warm,
    exit: 1,
    code: "BM2010",
  },
  // The boot loader is not built yet: grub-mkimage (a child process) runs first, within the
  // limit. Starting a child made Node's ignored SIGXFSZ deadly (execa's exit hook re-raises it).
  {
    name: "ulimit after a child ran: cache write",
    setup: (fx) => (prestartFiles(fx, 8192, 1), build(fx.sample, "--out", join(fx.dir, "m"))),
    shell: "ulimit -f 2000",
    exit: 1,
    code: "BM2010",
    check: cacheClean,
    within: 90_000,
  },
  {
    name: "ulimit after a child ran: iso write",
    setup: (fx) => (prestartFiles(fx, 1536, 3), build(fx.sample, "--target", "iso", "--out", join(fx.dir, "x.iso"))),
    shell: "ulimit -f 2000",
    exit: 1,
    code: "BM4001",
    check: cacheClean,
    within: 90_000,
  },
  {
    name: "ulimit -f 4, boot loader not yet built: grub-mkimage over the limit in the cache",
    setup: (fx) => build(fx.sample, "--out", join(fx.dir, "m")),
    shell: "ulimit -f 4",
    exit: 1,
    code: "BM2010",
  },
];

describe("hostile options and environment", () => {
  beforeAll(async () => {
    await execa("node", [BIN, "plan", "fixtures/specs/sample-dir.yaml", "--quiet"], { cwd: ROOT, env: warm() });
  }, 120_000);
  test.each(CASES)("$name", (c) => runHostile(c), 120_000);
});
