import { describe, expect, it } from "vitest";
import { parseImageSize } from "./size.ts";

describe("parseImageSize", () => {
  it.each([
    ["2GiB", 2 * 1024 ** 3],
    ["1536MiB", 1536 * 1024 ** 2],
    ["1.5GiB", 1536 * 1024 ** 2],
    [String(1024 ** 3), 1024 ** 3],
  ])("%s", (text, bytes) => expect(parseImageSize(text)).toBe(bytes));
  it.each(["512MiB", "2GB", "abc", "1025.5MiB", "2048GiB", ""])("refuses %s with BM5405", (text) => {
    expect(() => parseImageSize(text)).toThrow(expect.objectContaining({ code: "BM5405" }));
  });
});
