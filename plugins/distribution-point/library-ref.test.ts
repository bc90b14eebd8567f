import { describe, expect, it } from "vitest";
import { applySpecFlags, specFlags } from "../../core/spec-flags.ts";
import { builtinPluginSet } from "../builtin.ts";
import { CONTENT_LIBRARY } from "./spec.ts";
import { contentUrl, distributionPointsOf, manifestUrl } from "./library-ref.ts";

const model = builtinPluginSet().model;
const parse = (contentLibrary: unknown) =>
  CONTENT_LIBRARY.of(
    model.schema.parse({
      name: "m",
      bootImage: "B1",
      taskSequence: "T1",
      contentLibrary,
      target: { type: "directory", output: "o" },
    }),
  );

describe("contentLibrary as distribution points", () => {
  it("leaves folders and `embedded` to the local library", () => {
    expect(distributionPointsOf(parse("embedded"))).toBeUndefined();
    expect(distributionPointsOf(parse("../content"))).toBeUndefined();
  });

  it("reads one URL, a list in order, and the object form", () => {
    expect(distributionPointsOf(parse("http://dp1/lib"))).toEqual({ urls: ["http://dp1/lib/"] });
    expect(distributionPointsOf(parse(["http://dp1/", "https://dp2/x/"]))!.urls).toEqual([
      "http://dp1/",
      "https://dp2/x/",
    ]);
    expect(
      distributionPointsOf(parse({ urls: "https://dp1", caFile: "ca.pem", auth: { bearer: { env: "T" } } })),
    ).toEqual({ urls: ["https://dp1/"], caFile: "ca.pem", auth: { bearer: { env: "T" } } });
  });

  it("refuses a folder in a list, credentials in a URL, and inline secrets", () => {
    expect(() => distributionPointsOf(parse(["http://dp1/", "../content"]))).toThrow(/not an http\(s\) URL/);
    expect(() => distributionPointsOf(parse("http://u:p@dp1/"))).toThrow(/credentials/);
    expect(() => parse({ urls: "https://dp1", auth: { bearer: "inline-token" } })).toThrow(/by reference/);
  });

  it("escapes each path segment of library URLs", () => {
    expect(manifestUrl("http://dp/lib/", "BM1")).toBe("http://dp/lib/packages/BM1/package.json");
    expect(contentUrl("http://dp/lib/", "BM1", "boot/a b#1.img")).toBe(
      "http://dp/lib/packages/BM1/files/boot/a%20b%231.img",
    );
  });
});

describe("--content-library and --ca-file", () => {
  const apply = (raw: Record<string, unknown>, flags: Record<string, unknown>) => {
    applySpecFlags(raw, flags, model);
    return raw.contentLibrary;
  };

  it("exist as flags derived from the schema", () => {
    expect(specFlags(model).map((f) => f.flag)).toEqual(expect.arrayContaining(["content-library", "ca-file"]));
  });

  it("keep what the spec gave: a URL becomes the object form, an object keeps its settings", () => {
    expect(apply({ contentLibrary: "http://a/" }, { caFile: "ca.pem" })).toEqual({
      urls: "http://a/",
      caFile: "ca.pem",
    });
    expect(apply({ contentLibrary: ["http://a/", "http://b/"] }, { caFile: "ca.pem" })).toEqual({
      urls: ["http://a/", "http://b/"],
      caFile: "ca.pem",
    });
    expect(apply({ contentLibrary: { urls: "http://a/", caFile: "x.pem" } }, { contentLibrary: "http://b/" })).toEqual({
      urls: "http://b/",
      caFile: "x.pem",
    });
    expect(apply({}, { contentLibrary: "http://b/", caFile: "c.pem" })).toEqual({ urls: "http://b/", caFile: "c.pem" });
    expect(apply({ contentLibrary: "../content" }, { contentLibrary: "http://b/" })).toBe("http://b/");
  });
});
