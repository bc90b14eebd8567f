import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { copyFiles } from "../../native/copy-range/index.ts";

const run = promisify(execFile);
const ROOT = new URL("../../", import.meta.url).pathname;

/** Writes one ISO of `dir` in a child process, with or without the native copy helper. */
async function isoOf(dir: string, out: string, native: boolean): Promise<Buffer> {
  const script = `import { writeIso } from "${ROOT}formats/iso9660/write.ts"; import { treeFromDir } from "${ROOT}base/dir-tree.ts";
    await writeIso(await treeFromDir(${JSON.stringify(dir)}), { volumeId: "NATIVE", sourceDateEpoch: 1764000000 }, ${JSON.stringify(out)});`;
  const file = join(dir, "..", `w-${native}.mts`);
  await writeFile(file, script);
  await run("npx", ["tsx", file], {
    cwd: ROOT,
    env: { ...process.env, ...(native ? {} : { BOOTMEDIA_NO_NATIVE: "1" }) },
  });
  return readFile(out);
}

describe("in-kernel payload copy (native/copy-range)", () => {
  it("is built here (npm ci builds it; without it the writers copy through user space)", () => {
    expect(copyFiles).toBeTypeOf("function");
  });

  it("gives byte-identical images with and without the native helper", async () => {
    const work = await mkdtemp(join(tmpdir(), "bm-native-"));
    const tree = join(work, "tree");
    await run("mkdir", ["-p", join(tree, "a/b")]);
    const bytes = (n: number, s: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + s) & 0xff));
    await writeFile(join(tree, "small.txt"), "hello\n");
    await writeFile(join(tree, "a/mid.bin"), bytes(100_000, 1));
    await writeFile(join(tree, "a/b/big.bin"), bytes(3_000_001, 2));
    const withNative = await isoOf(tree, join(work, "n.iso"), true);
    const without = await isoOf(tree, join(work, "u.iso"), false);
    expect(withNative.length).toBeGreaterThan(3_000_000);
    expect(Buffer.compare(withNative, without)).toBe(0);
  }, 60_000);
});
