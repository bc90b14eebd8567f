import { describe, expect, it } from "vitest";
import { CHARACTER_CLASSES, checkPasswordPolicy, classesOf } from "./policy.ts";

describe("password strength policy", () => {
  it.each(["Correct-horse-battery", "ABCDEFGH1234!", "zürich Zürich 2026", "P4ssw0rdP4ssw0rd"])("accepts %j", (pw) => {
    expect(checkPasswordPolicy(pw)).toEqual([]);
  });

  it("names the length rule for a short password, without quoting it", () => {
    const broken = checkPasswordPolicy("Sh0rt!pw");
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatch(/8 characters; the policy asks for at least 12/);
    expect(broken[0]).not.toContain("Sh0rt");
  });

  it("names the class rule and the classes to add", () => {
    expect(checkPasswordPolicy("alllowercaseletters")).toEqual([
      expect.stringMatching(/uses 1 of the 4 character classes.*add upper or digit or symbol/),
    ]);
    expect(checkPasswordPolicy("lowerUPPERonly")).toEqual([expect.stringMatching(/uses 2 of the 4/)]);
  });

  it("reports both rules at once, and refuses control characters", () => {
    expect(checkPasswordPolicy("abc")).toHaveLength(2);
    expect(checkPasswordPolicy("Good-Password-1\n")).toEqual([expect.stringMatching(/control characters/)]);
  });

  it.each(CHARACTER_CLASSES.map((k, i) => [k, ["a", "A", "7", "#"][i]!] as const))(
    "recognises the %s class",
    (k, c) => {
      expect(classesOf(c)).toEqual([k]);
    },
  );
});
