import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeRecord } from "../record.ts";
import { readKernelHeader, SETUP_HEADER } from "./setup-header.ts";
import { syntheticKernel } from "./testing/synthetic-kernel.ts";

const dir = mkdtempSync(join(tmpdir(), "bm-bzimage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `file`'s own reading of the same bytes: the independent oracle. */
function fileSays(buf: Buffer): string {
  const p = join(dir, `k${Math.random().toString(16).slice(2)}`);
  writeFileSync(p, buf);
  return execFileSync("file", ["-b", p], { encoding: "utf8" });
}

describe("the x86 setup header", () => {
  it("reads a 64-bit bzImage as 64-bit, and file agrees it is a bzImage", () => {
    const k = syntheticKernel(64);
    expect(readKernelHeader(k)).toEqual({ ok: true, version: "2.15", bits: 64 });
    expect(fileSays(k)).toMatch(/Linux kernel x86 boot executable bzImage/);
  });

  it("reads a 32-bit bzImage as 32-bit", () => {
    expect(readKernelHeader(syntheticKernel(32))).toEqual({ ok: true, version: "2.15", bits: 32 });
  });

  it("refuses a file without the HdrS magic, a zImage and a short file, saying why", () => {
    expect(readKernelHeader(Buffer.alloc(4096))).toMatchObject({ ok: false, why: expect.stringContaining("HdrS") });
    const zimage = syntheticKernel(32);
    encodeRecord(SETUP_HEADER, { loadflags: 0 }, zimage);
    expect(readKernelHeader(zimage)).toMatchObject({ ok: false, why: expect.stringContaining("zImage") });
    expect(readKernelHeader(Buffer.from("not a kernel"))).toMatchObject({
      ok: false,
      why: expect.stringContaining("shorter"),
    });
  });

  it("takes a kernel older than protocol 2.12 as 32-bit (it cannot say 64-bit)", () => {
    const old = syntheticKernel(64);
    encodeRecord(SETUP_HEADER, { version: 0x020a }, old);
    expect(readKernelHeader(old)).toMatchObject({ ok: true, bits: 32 });
  });
});
