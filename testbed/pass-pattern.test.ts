import { describe, it, expect } from "vitest";
import { compilePassPattern, findPass } from "./pass-pattern.ts";
import { isBootmediaError } from "../base/errors.ts";

describe("pass patterns", () => {
  it("compiles each source given, and nothing when none is", () => {
    expect(compilePassPattern(undefined)).toBeUndefined();
    expect(compilePassPattern({})).toBeUndefined();
    const c = compilePassPattern({ serial: "Choose the language", screen: "Select a language" })!;
    expect(c.serial!.test("[!!] Choose the language")).toBe(true);
    expect(c.screen!.test("Select a language")).toBe(true);
  });

  it.each([
    ["serial", "(unclosed"],
    ["screen", ""],
  ] as const)("refuses a bad %s pattern %j as BM5012", (source, text) => {
    let error: unknown;
    try {
      compilePassPattern({ [source]: text });
    } catch (e) {
      error = e;
    }
    expect(isBootmediaError(error) && error.code).toBe("BM5012");
    expect(String((error as Error).message)).toContain(source);
  });

  it("returns the whole line a match sits in, and nothing without a match", () => {
    const text = "Loading Linux 6.1.0-28-amd64 ...\n  [!!] Select a language  \nChoose the language";
    expect(findPass(/Select a lang/m, text)).toBe("[!!] Select a language");
    expect(findPass(/^Choose/m, text)).toBe("Choose the language");
    expect(findPass(/Partition disks/m, text)).toBeUndefined();
  });
});
