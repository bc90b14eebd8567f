import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiagnosticsError } from "../base/diagnostics.ts";
import { loadSpec } from "./spec.ts";

const FIXTURES = new URL("../fixtures/specs/", import.meta.url).pathname;

async function problems(file: string) {
  try {
    await loadSpec({ file });
  } catch (e) {
    if (e instanceof DiagnosticsError) return e.diagnostics;
    throw e;
  }
  throw new Error("spec loaded without problems");
}

describe("loadSpec", () => {
  it("loads the sample spec with defaults applied", async () => {
    const { spec } = await loadSpec({ file: join(FIXTURES, "sample-dir.yaml") });
    expect(spec.name).toBe("contoso-x64");
    expect((spec.security as { userDeviceAffinity: string }).userDeviceAffinity).toBe("auto");
    expect(spec.plugins).toEqual([]);
  });

  it("reports all five mistakes at once, each with code and line:column", async () => {
    const file = join(FIXTURES, "bad-five.yaml");
    const ds = await problems(file);
    const byCode = ds.map((d) => [d.code, d.path!.replace(file, "F")]);
    expect(byCode).toEqual(
      expect.arrayContaining([
        ["BM1003", "F:2:7 (name)"],
        ["BM1005", expect.stringContaining("(taskSequence)")],
        ["BM3005", "F:5:17 (target.type)"],
        ["BM1006", "F:7:13 (security.password)"],
        ["BM1004", "F:8:1 (colour)"],
      ]),
    );
    expect(ds).toHaveLength(5);
    for (const d of ds) expect(d.hint.length).toBeGreaterThan(10);
  });

  it("says why an inline password is refused", async () => {
    const ds = await problems(join(FIXTURES, "bad-five.yaml"));
    const inline = ds.find((d) => d.code === "BM1006")!;
    expect(inline.message).toMatch(/by reference/);
    expect(inline.hint).toMatch(/env: NAME/);
  });

  it("reports YAML syntax errors with their location", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-spec-"));
    const file = join(dir, "broken.yaml");
    await writeFile(file, "name: x\ntarget: { type: iso\n");
    const ds = await problems(file);
    expect(ds[0]!.code).toBe("BM1002");
    expect(ds[0]!.path).toMatch(/broken\.yaml:\d+:\d+/);
  });

  it("accepts JSON specs and locates their problems", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-spec-"));
    const file = join(dir, "media.json");
    await writeFile(
      file,
      JSON.stringify(
        { name: "ok", bootImage: "B", taskSequence: "T", target: { type: "iso", output: "x.iso" }, unattended: "yes" },
        null,
        2,
      ),
    );
    const ds = await problems(file);
    expect(ds).toHaveLength(1);
    expect(ds[0]!.path).toBe(`${file}:9:17 (unattended)`);
  });
});
