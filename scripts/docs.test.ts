import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createHooks } from "../core/hooks.ts";
import { GENERATED_DOCS } from "./generate-docs.ts";

const root = new URL("../", import.meta.url);

describe("docs cannot drift from code", () => {
  it.each(Object.entries(GENERATED_DOCS))("%s matches what `npm run docs` generates", (file, render) => {
    expect(readFileSync(new URL(file, root), "utf8")).toBe(render());
  });

  it("docs/plugins.md documents every hook with its tapable class", () => {
    const doc = readFileSync(new URL("docs/plugins.md", root), "utf8");
    for (const [name, hook] of Object.entries(createHooks())) {
      const section = doc.split(`\n### ${name}\n`)[1];
      expect(section, `section for hook ${name}`).toBeDefined();
      expect(section!.split("\n")[0]).toContain(hook.constructor.name);
    }
  });
});
