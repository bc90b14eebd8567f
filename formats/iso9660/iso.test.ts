import { mkdtemp, readFile, rm, writeFile, chmod, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TreeEntry } from "../../base/tree.ts";
import { planIso } from "./plan.ts";
import { readIso, readIsoFile } from "./read.ts";
import { extractWithXorriso, generateTree, isoinfoList } from "./testing/testkit.ts";
import { writeIso } from "./write.ts";

const EPOCH = 1_700_000_000;
const bytes = (path: string, text: string | Buffer): TreeEntry => {
  const data = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return { type: "file", path, size: data.length, source: { kind: "bytes", data } };
};

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-iso-test-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("writeIso against isoinfo and xorriso", () => {
  const entries: TreeEntry[] = [
    bytes("README.md", "hello\n"),
    bytes("Sources/Ünïcödé naïve.txt", "unicode\n"),
    bytes(`Sources/${"long-name-".repeat(20)}end.bin`, Buffer.alloc(3000, 1)),
    bytes("a/b/c/d/e/f/g/h/i/j/k/deep.txt", "deep\n"),
    bytes("empty.dat", ""),
    { type: "dir", path: "Empty Folder" },
  ];

  it("writes descriptors isoinfo -d reads, and names in every view", async () => {
    const iso = join(work, "basic.iso");
    const res = await writeIso(
      entries,
      { volumeId: "BOOTMEDIA_TEST", sourceDateEpoch: EPOCH, publisher: "CONTOSO", application: "BOOTMEDIA" },
      iso,
    );
    expect((await stat(iso)).size).toBe(res.bytes);
    const { stdout } = await execa("isoinfo", ["-d", "-i", iso]);
    expect(stdout).toContain("Volume id: BOOTMEDIA_TEST");
    expect(stdout).toContain("Publisher id: CONTOSO");
    expect(stdout).toContain("Joliet with UCS level 3 found");
    expect(stdout).toContain("Rock Ridge signatures version 1 found");
    expect(stdout).toContain(`Volume size is: ${res.bytes / 2048}`);
    const rr = await isoinfoList(iso, "-R");
    for (const e of entries) expect(rr).toContain(e.path);
    const joliet = await isoinfoList(iso, "-J");
    expect(joliet).toContain("Sources/Ünïcödé naïve.txt");
    expect(joliet).toContain(`Sources/${`${"long-name-".repeat(20)}end.bin`.slice(0, 64)}`);
    const plain = await isoinfoList(iso, "");
    expect(plain).toContain("README.MD;1");
    expect(plain).toContain("A/B/C/D/E/F/G/H/I/J/K/DEEP.TXT;1");
    for (const p of plain) for (const part of p.split("/")) expect(part).toMatch(/^[A-Z0-9_]+(\.[A-Z0-9_]*;1)?$/);
  });

  it("xorriso extracts every file with the same bytes, and our reader agrees", async () => {
    const iso = join(work, "extract.iso");
    await writeIso(entries, { volumeId: "X", sourceDateEpoch: EPOCH }, iso);
    const x = await extractWithXorriso(iso);
    try {
      for (const e of entries) {
        if (e.type === "file" && e.source.kind === "bytes") {
          expect(await readFile(join(x.dir, e.path))).toEqual(Buffer.from(e.source.data));
          expect(await readIsoFile(iso, e.path)).toEqual(Buffer.from(e.source.data));
        }
      }
      expect(existsSync(join(x.dir, "Empty Folder"))).toBe(true);
    } finally {
      await x.cleanup();
    }
    const info = await readIso(iso);
    expect(info.names).toBe("rockridge");
    expect(info.files.find((f) => f.path === "README.md")?.mode).toBe(0o100644);
  });

  it("two builds with the same sourceDateEpoch are byte-identical; another epoch differs", async () => {
    const tree = await generateTree(7, { files: 60, deepChain: 10 });
    try {
      const [a, b, c] = ["a.iso", "b.iso", "c.iso"].map((n) => join(work, n));
      await writeIso(tree.entries, { volumeId: "R", sourceDateEpoch: EPOCH }, a);
      await writeIso([...tree.entries].reverse(), { volumeId: "R", sourceDateEpoch: EPOCH }, b);
      await writeIso(tree.entries, { volumeId: "R", sourceDateEpoch: EPOCH + 1 }, c);
      const { stdout } = await execa("sha256sum", [a, b, c]);
      const [ha, hb, hc] = stdout.split("\n").map((l) => l.split(" ")[0]);
      expect(hb).toBe(ha);
      expect(hc).not.toBe(ha);
    } finally {
      await tree.cleanup();
    }
  });

  it("planIso predicts the size and extents writeIso produces", async () => {
    const iso = join(work, "plan.iso");
    const opts = { volumeId: "P", sourceDateEpoch: EPOCH };
    const plan = planIso(entries, opts);
    const res = await writeIso(entries, opts, iso);
    expect(plan.totalBytes).toBe(res.bytes);
    const info = await readIso(iso);
    for (const f of plan.files) expect(info.files.find((x) => x.path === f.path)?.extents).toEqual(f.extents);
  });
});

describe("bad input gives coded errors and leaves no output", () => {
  const out = () => join(work, `bad-${Math.random().toString(36).slice(2)}.iso`);
  const opts = { volumeId: "BAD", sourceDateEpoch: EPOCH };

  it.each(["lower", "TOO_LONG_".repeat(4) + "X", "", "A-B", "ÄÖ"])(
    "rejects volume id %j with BM3101",
    async (volumeId) => {
      const o = out();
      await expect(writeIso([bytes("a", "a")], { ...opts, volumeId }, o)).rejects.toMatchObject({ code: "BM3101" });
      expect(existsSync(o)).toBe(false);
    },
  );

  it("names both paths when Joliet names collide (BM3102)", async () => {
    const e = [bytes("d/a:b", "1"), bytes("d/a?b", "2")];
    await expect(writeIso(e, opts, out())).rejects.toMatchObject({
      code: "BM3102",
      message: expect.stringMatching(/d\/a:b.*d\/a\?b/),
    });
    const long = "n".repeat(64);
    expect(() => planIso([bytes(`${long}1`, "1"), bytes(`${long}2`, "2")], opts)).toThrow(/Joliet/);
  });

  it("mangles colliding ISO 9660 names deterministically instead of failing", async () => {
    const iso = out();
    await writeIso([bytes("abc-1.txt", "1"), bytes("ABC_1.TXT", "2"), bytes("abc 1.txt", "3")], opts, iso);
    const plain = await isoinfoList(iso, "");
    expect(new Set(plain).size).toBe(3);
    expect((await isoinfoList(iso, "-R")).sort()).toEqual(["ABC_1.TXT", "abc 1.txt", "abc-1.txt"]);
  });

  it("rejects duplicate paths and file/folder conflicts (BM3103) and bad paths (BM3104)", () => {
    expect(() => planIso([bytes("a", "1"), bytes("a", "2")], opts)).toThrow(
      expect.objectContaining({ code: "BM3103" }),
    );
    expect(() => planIso([bytes("a", "1"), bytes("a/b", "2")], opts)).toThrow(
      expect.objectContaining({ code: "BM3103" }),
    );
    expect(() => planIso([bytes("../a", "1")], opts)).toThrow(expect.objectContaining({ code: "BM3104" }));
    expect(() => planIso([bytes("x".repeat(256), "1")], opts)).toThrow(expect.objectContaining({ code: "BM3107" }));
  });

  it.each([
    ["shrinks", 100, 50],
    ["grows", 100, 150],
  ])("fails with BM4101 when a source %s and deletes the output", async (_what, declared, actual) => {
    const src = join(work, `src-${declared}-${actual}`);
    await writeFile(src, Buffer.alloc(actual, 3));
    const o = out();
    const e: TreeEntry[] = [{ type: "file", path: "f.bin", size: declared, source: { kind: "file", path: src } }];
    await expect(writeIso(e, opts, o)).rejects.toMatchObject({ code: "BM4101" });
    expect(existsSync(o)).toBe(false);
  });

  it("fails with BM4101 when a source vanished and BM4102 when it is unreadable", async () => {
    const o = out();
    await expect(
      writeIso([{ type: "file", path: "f", size: 1, source: { kind: "file", path: join(work, "nope") } }], opts, o),
    ).rejects.toMatchObject({ code: "BM4101" });
    expect(existsSync(o)).toBe(false);
    const dirAsFile = join(work, "a-folder");
    await execa("mkdir", ["-p", dirAsFile]);
    await expect(
      writeIso([{ type: "file", path: "f", size: 1, source: { kind: "file", path: dirAsFile } }], opts, o),
    ).rejects.toMatchObject({ code: "BM4102" });
    if (process.getuid?.() !== 0) {
      const locked = join(work, "locked");
      await writeFile(locked, "x");
      await chmod(locked, 0);
      await expect(
        writeIso([{ type: "file", path: "f", size: 1, source: { kind: "file", path: locked } }], opts, o),
      ).rejects.toMatchObject({ code: "BM4102" });
    }
    expect(existsSync(o)).toBe(false);
  });
});
