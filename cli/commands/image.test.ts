import { describe, expect, it } from "vitest";
import { FAST_FORMATS, imageFormats } from "./image.ts";

describe("bootmedia image: the fast path loads the plugins' own formats", () => {
  it("names the same formats as the plugins' definitions, and the very same objects", async () => {
    const fromPlugins = await imageFormats();
    expect(Object.keys(FAST_FORMATS).sort()).toEqual([...fromPlugins.keys()].sort());
    for (const [name, load] of Object.entries(FAST_FORMATS)) expect(await load()).toBe(fromPlugins.get(name));
  });
});
