import { describe, expect, it } from "vitest";
import { BootmediaError } from "../base/errors.ts";
import { parseSecretFlag } from "./spec-flags.ts";

describe("secrets on the command line: env:NAME or file:PATH, one spelling everywhere", () => {
  it("takes a variable name or a file path", () => {
    expect(parseSecretFlag("--password", "env:MEDIA_PASSWORD")).toEqual({ env: "MEDIA_PASSWORD" });
    expect(parseSecretFlag("--password", "file:secrets/pw.txt")).toEqual({ file: "secrets/pw.txt" });
  });

  it.each(["Corr3ct-Horse-Battery!", "env:Corr3ct-Horse-Battery!", "env:", "hunter2"])(
    "refuses %s as BM1006 without echoing it",
    (value) => {
      let error: unknown;
      try {
        parseSecretFlag("--password", value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BootmediaError);
      expect((error as BootmediaError).code).toBe("BM1006");
      expect((error as BootmediaError).message).not.toContain(value.replace(/^env:/, "") || "\u0000");
    },
  );
});
