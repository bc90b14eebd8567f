import { closeSync, openSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFiles } from "../native/copy-range/index.ts";
import { startPayloadCopy, type Payload } from "./payload-copy.ts";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-payload-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

async function copyInto(name: string, payloads: Payload[], userSpace: boolean) {
  const out = join(work, name);
  const fd = openSync(out, "w");
  try {
    const progress: number[] = [];
    const copy = startPayloadCopy(fd, payloads, (n) => progress.push(n), { userSpace });
    const failure = await copy.done;
    return { failure, image: await readFile(out), progress, copied: copy.copied() };
  } finally {
    closeSync(fd);
  }
}

describe.each([
  ["in the kernel (native helper)", false],
  ["through user space", true],
])("payload copy %s", (_how, userSpace) => {
  it("copies pieces of one source (from, length) ; a source longer than its piece is no error", async () => {
    const src = join(work, `pieces-${userSpace}.bin`);
    const whole = pattern(2_500_003, 7);
    await writeFile(src, whole);
    const r = await copyInto(
      `pieces-${userSpace}.img`,
      [
        { path: src, from: 1_000_000, length: 1_000_000, offset: 0 },
        { path: src, from: 0, length: 1_000_000, offset: 1_048_576 },
        { path: src, from: 2_000_000, length: 500_003, offset: 2_097_152 },
      ],
      userSpace,
    );
    expect(r.failure).toBeUndefined();
    expect(Buffer.compare(r.image.subarray(0, 1_000_000), whole.subarray(1_000_000, 2_000_000))).toBe(0);
    expect(Buffer.compare(r.image.subarray(1_048_576, 2_048_576), whole.subarray(0, 1_000_000))).toBe(0);
    expect(Buffer.compare(r.image.subarray(2_097_152), whole.subarray(2_000_000))).toBe(0);
    // A piece past the source's end is a short read, as for a whole file.
    const short = await copyInto(
      `pieces-short-${userSpace}.img`,
      [{ path: src, from: 2_400_000, length: 200_000, offset: 0 }],
      userSpace,
    );
    expect(short.failure).toMatchObject({ index: 0, kind: "shrank", at: 100_003 });
  });

  it("puts every payload at its offset, leaves the gaps as holes and reports progress", async () => {
    if (!userSpace) expect(copyFiles).toBeTypeOf("function");
    const a = join(work, "a.bin"),
      b = join(work, "b.bin"),
      empty = join(work, "empty.bin");
    await writeFile(a, pattern(3_000_001, 1));
    await writeFile(b, pattern(70_000, 2));
    await writeFile(empty, "");
    const r = await copyInto(
      `ok-${userSpace}.img`,
      [
        { path: a, length: 3_000_001, offset: 4096 },
        { path: empty, length: 0, offset: 0 },
        { path: b, length: 70_000, offset: 3_006_464 },
      ],
      userSpace,
    );
    expect(r.failure).toBeUndefined();
    expect(r.image.length).toBe(3_006_464 + 70_000);
    expect(r.image.subarray(0, 4096).every((x) => x === 0)).toBe(true);
    expect(Buffer.compare(r.image.subarray(4096, 4096 + 3_000_001), pattern(3_000_001, 1))).toBe(0);
    expect(r.image.subarray(4096 + 3_000_001, 3_006_464).every((x) => x === 0)).toBe(true);
    expect(Buffer.compare(r.image.subarray(3_006_464), pattern(70_000, 2))).toBe(0);
    expect(r.copied).toBe(3_070_001);
    expect(r.progress.at(-1)).toBe(3_070_001);
  });

  it.each([
    ["vanished", async (p: string) => rm(p), { kind: "open", code: "ENOENT" }],
    ["shrank", async (p: string) => truncate(p, 1000), { kind: "shrank", at: 1000 }],
    ["grew", async (p: string) => writeFile(p, pattern(5001, 3)), { kind: "grew", at: 5000 }],
    [
      "turned into a folder",
      async (p: string) => {
        await rm(p);
        await (await import("node:fs/promises")).mkdir(p);
      },
      { kind: "read", code: "EISDIR" },
    ],
  ] as const)("reports a source that %s, naming the payload", async (what, change, expected) => {
    const good = join(work, `good-${userSpace}.bin`),
      bad = join(work, `bad-${what}-${userSpace}.bin`);
    await writeFile(good, pattern(2000, 4));
    await writeFile(bad, pattern(5000, 5));
    await change(bad);
    const r = await copyInto(
      `bad-${what}-${userSpace}.img`,
      [
        { path: good, length: 2000, offset: 0 },
        { path: bad, length: 5000, offset: 2048 },
      ],
      userSpace,
    );
    expect(r.failure).toMatchObject({ index: 1, ...expected });
  });

  it("stops when cancelled and says so", async () => {
    const big = join(work, `big-${userSpace}.bin`);
    await writeFile(big, "");
    await truncate(big, 512 * 2 ** 20); // sparse: 8 chunks of 64 MiB
    const out = join(work, `cancel-${userSpace}.img`);
    const fd = openSync(out, "w");
    const copy = startPayloadCopy(fd, [{ path: big, length: 512 * 2 ** 20, offset: 0 }], undefined, { userSpace });
    copy.cancel();
    const failure = await copy.done;
    closeSync(fd);
    expect(failure).toMatchObject({ index: 0, kind: "cancelled" });
    expect(copy.copied()).toBeLessThan(512 * 2 ** 20);
  });
});

// Root reads anything (CI runs as root): there the folder case above covers read failures.
it("an unreadable source is an open failure with EACCES", async (ctx) => {
  ctx.skip(
    process.getuid?.() === 0,
    "runs as root, and root reads any file (the folder case above covers read failures)",
  );
  const locked = join(work, "locked.bin");
  await writeFile(locked, "x");
  await chmod(locked, 0);
  const r = await copyInto("locked.img", [{ path: locked, length: 1, offset: 0 }], false);
  expect(r.failure).toMatchObject({ kind: "open", code: "EACCES" });
});
