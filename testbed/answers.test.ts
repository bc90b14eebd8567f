import { describe, it, expect } from "vitest";
import { checkAnswers, DEFAULT_ANSWERS, PromptResponder } from "./answers.ts";

describe("PromptResponder", () => {
  it("answers each prompt kind from its own list, in order, one line each", () => {
    const r = new PromptResponder({ password: ["wrong", "right"], network: ["dhcp"] });
    expect(r.answerFor({ event: "prompt", for: "password", attempt: 1 })).toBe("wrong\n");
    expect(r.answerFor({ event: "prompt", for: "network" })).toBe("dhcp\n");
    expect(r.answerFor({ event: "prompt", for: "password", attempt: 2 })).toBe("right\n");
    expect(r.answerFor({ event: "prompt", for: "password", attempt: 3 })).toBeUndefined();
    expect(r.answerFor({ event: "prompt", for: "network" })).toBeUndefined();
    expect(r.log).toEqual([
      { for: "password", answered: true },
      { for: "network", answered: true },
      { for: "password", answered: true },
      { for: "password", answered: false },
      { for: "network", answered: false },
    ]);
  });

  it("ignores markers that are not prompts and prompts without a kind", () => {
    const r = new PromptResponder({ password: ["x"] });
    expect(r.answerFor({ event: "booted", for: "password" })).toBeUndefined();
    expect(r.answerFor({ event: "prompt" })).toBeUndefined();
    expect(r.answerFor({ event: "prompt", for: "toString" })).toBeUndefined();
    expect(r.log).toEqual([{ for: "toString", answered: false }]);
  });

  it("answers an empty string with a bare newline (take the default)", () => {
    expect(new PromptResponder({ "task-sequence": [""] }).answerFor({ event: "prompt", for: "task-sequence" })).toBe(
      "\n",
    );
  });

  it("refuses an answer with a line break (BM5009)", () => {
    expect(() => checkAnswers({ password: ["a\nb"] })).toThrow(expect.objectContaining({ code: "BM5009" }));
    expect(() => new PromptResponder({ network: ["x\r"] })).toThrow(expect.objectContaining({ code: "BM5009" }));
  });
});

describe("DEFAULT_ANSWERS", () => {
  it("takes the interactive questions' defaults at once and never answers a password", () => {
    const r = new PromptResponder(DEFAULT_ANSWERS);
    expect(r.answerFor({ event: "prompt", for: "network" })).toBe("\n");
    expect(r.answerFor({ event: "prompt", for: "task-sequence" })).toBe("\n");
    expect(r.answerFor({ event: "prompt", for: "password", attempt: 1 })).toBeUndefined();
  });
});
