import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, lstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { isBootmediaError } from "../../base/errors.ts";
import { writeCpioArchive, type CpioEntry } from "./writer.ts";

const EPOCH = 1_700_000_000;
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "bm-cpio-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface ListedEntry {
  mode: string;
  owner: string;
  size: string;
  date: string;
  name: string;
}

/** GNU cpio's verbose table of contents (`-tv`, like `ls -l`): mode, links, owner, group, size or "maj, min", date, name. */
function listWithGnuCpio(archive: string): ListedEntry[] {
  const text = execFileSync("cpio", ["-itv", "--quiet", "-F", archive], {
    encoding: "utf8",
    env: { ...process.env, TZ: "UTC", LC_ALL: "C" },
  });
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const m = /^(\S+)\s+\d+\s+(\S+)\s+\S+\s+(\d+, *\d+|\d+)\s+(\w{3} +\d+ +[\d:]+)\s(.*)$/.exec(line);
      if (!m) throw new Error(`unexpected cpio -tv line: ${line}`);
      return { mode: m[1], owner: m[2], size: m[3].replace(/ +/g, " "), date: m[4].replace(/ +/g, " "), name: m[5] };
    });
}

function extractWithGnuCpio(archive: string): string {
  const dest = mkdtempSync(join(work, "x-"));
  execFileSync("cpio", ["-idm", "--quiet", "--no-absolute-filenames", "-F", archive], { cwd: dest });
  return dest;
}

const big = Uint8Array.from({ length: 70_001 }, (_, i) => (i * 7 + 3) & 0xff);

function sampleEntries(): CpioEntry[] {
  const onDisk = join(work, "disk.bin");
  writeFileSync(onDisk, big);
  return [
    { type: "file", path: "bin/busybox", size: big.length, source: { kind: "file", path: onDisk }, mode: 0o755 },
    { type: "symlink", path: "bin/sh", target: "busybox" },
    {
      type: "file",
      path: "init",
      size: 5,
      source: { kind: "bytes", data: new TextEncoder().encode("hi!\n\n") },
      mode: 0o755,
    },
    {
      type: "file",
      path: "etc/odd name.txt",
      size: 3,
      source: { kind: "bytes", data: new TextEncoder().encode("abc") },
    },
    { type: "file", path: "empty", size: 0, source: { kind: "bytes", data: new Uint8Array() } },
    { type: "dir", path: "proc", mode: 0o555 },
    { type: "chardev", path: "dev/console", major: 5, minor: 1 },
  ];
}

describe("writeCpioArchive (oracle: GNU cpio)", () => {
  it("produces an archive GNU cpio lists with the right modes, owners, sizes and sorted names", async () => {
    const out = join(work, "a.cpio");
    await writeCpioArchive(sampleEntries(), out, { sourceDateEpoch: EPOCH });
    const lines = listWithGnuCpio(out);
    const names = lines.map((l) => l.name);
    expect(names).toEqual([
      "bin",
      "bin/busybox",
      "bin/sh -> busybox",
      "dev",
      "dev/console",
      "empty",
      "etc",
      "etc/odd name.txt",
      "init",
      "proc",
    ]);
    const byName = Object.fromEntries(lines.map((l) => [l.name, l]));
    expect(byName["bin/busybox"]).toMatchObject({ mode: "-rwxr-xr-x", owner: "root", size: String(big.length) });
    expect(byName["proc"].mode).toBe("dr-xr-xr-x");
    expect(byName["dev"].mode).toBe("drwxr-xr-x");
    expect(byName["dev/console"]).toMatchObject({ mode: "crw-------", size: "5, 1" });
    // 1700000000 is 2023-11-14 22:13 UTC.
    expect(byName["init"].date).toBe("Nov 14 2023");
  });

  it("round-trips file bytes, symlinks and mtimes through GNU cpio extraction", async () => {
    const out = join(work, "b.cpio");
    await writeCpioArchive(
      sampleEntries().filter((e) => e.type !== "chardev"),
      out,
      { sourceDateEpoch: EPOCH },
    );
    const dest = extractWithGnuCpio(out);
    expect(new Uint8Array(readFileSync(join(dest, "bin/busybox")))).toEqual(big);
    expect(readFileSync(join(dest, "init"), "utf8")).toBe("hi!\n\n");
    expect(readFileSync(join(dest, "etc/odd name.txt"), "utf8")).toBe("abc");
    expect(statSync(join(dest, "empty")).size).toBe(0);
    expect(readlinkSync(join(dest, "bin/sh"))).toBe("busybox");
    expect(lstatSync(join(dest, "init")).mtimeMs / 1000).toBe(EPOCH);
  });

  it("is byte-identical for the same input in any order, and gzip wraps the same archive", async () => {
    const a = join(work, "c1.cpio");
    const b = join(work, "c2.cpio");
    const gz = join(work, "c3.cpio.gz");
    await writeCpioArchive(sampleEntries(), a, { sourceDateEpoch: EPOCH });
    await writeCpioArchive(sampleEntries().reverse(), b, { sourceDateEpoch: EPOCH });
    await writeCpioArchive(sampleEntries(), gz, { sourceDateEpoch: EPOCH, compression: "gzip" });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(gunzipSync(readFileSync(gz)).equals(readFileSync(a))).toBe(true);
    // Every record is 4-byte aligned, so the whole archive is too.
    expect(readFileSync(a).length % 4).toBe(0);
  });

  it("adds missing parent folders and numbers inodes in order", async () => {
    const out = join(work, "d.cpio");
    const data = new TextEncoder().encode("x");
    await writeCpioArchive([{ type: "file", path: "a/b/c/f", size: 1, source: { kind: "bytes", data } }], out, {
      sourceDateEpoch: EPOCH,
    });
    expect(listWithGnuCpio(out).map((l) => l.name)).toEqual(["a", "a/b", "a/b/c", "a/b/c/f"]);
    // Each record's ino field (header offset 6, 8 hex digits) counts up from 1.
    const raw = readFileSync(out, "latin1");
    const inodes = [...raw.matchAll(/070701([0-9a-f]{8})/g)].map((m) => parseInt(m[1], 16));
    expect(inodes).toEqual([1, 2, 3, 4, 0]);
  });

  it("fails with BM4002 when a source is not the size the entry declares", async () => {
    const data = new TextEncoder().encode("four");
    const entries: CpioEntry[] = [{ type: "file", path: "f", size: 5, source: { kind: "bytes", data } }];
    const err = await writeCpioArchive(entries, join(work, "e.cpio"), { sourceDateEpoch: EPOCH }).catch(
      (e: unknown) => e,
    );
    expect(isBootmediaError(err) && err.code).toBe("BM4002");
    expect(() => statSync(join(work, "e.cpio.tmp"))).toThrow();
  });

  it("rejects duplicate paths and paths that escape the tree", async () => {
    const data = new Uint8Array();
    const f = (path: string): CpioEntry => ({ type: "file", path, size: 0, source: { kind: "bytes", data } });
    await expect(writeCpioArchive([f("x"), f("x")], join(work, "f.cpio"), { sourceDateEpoch: EPOCH })).rejects.toThrow(
      /duplicate/,
    );
    await expect(writeCpioArchive([f("../x")], join(work, "g.cpio"), { sourceDateEpoch: EPOCH })).rejects.toThrow(
      /invalid media path/,
    );
  });
});
