/** Site files without QEMU: what the loader refuses (BM5305) and how a case's clock is read. */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CASE_SITE_PARTS, clockOf, loadSiteFile, siteOfCase, SiteFileSchema, type CaseSite } from "./site-file.ts";
import { parseSite } from "../backends/mp/site.ts";
import { SITE_FILE } from "./testing/site-example.ts";
import type { MpMediaSettings } from "./mp/expect.ts";

const media = {
  certificate: { notBefore: "2026-01-01T00:00:00Z", notAfter: "2027-01-01T00:00:00Z" },
} as MpMediaSettings;

describe("site files", () => {
  it("the documented example parses", () => {
    const r = SiteFileSchema.safeParse(parse(SITE_FILE));
    expect(r.success, JSON.stringify(!r.success && r.error.issues)).toBe(true);
  });

  it.each([
    [
      "a case naming media the file does not list",
      SITE_FILE.replace(
        "media: site-iso, profile: x64-bios, mps: [{ name: MP1 }], answers",
        "media: nowhere, profile: x64-bios, mps: [{ name: MP1 }], answers",
      ),
      /names media "nowhere"/,
    ],
    ["an unknown profile", SITE_FILE.replace("profile: x86-bios", "profile: arm-uefi"), /cases\.2\.profile/],
    ["no cases", SITE_FILE.replace(/cases:[\s\S]*$/, "cases: []\n"), /cases/],
    ["YAML that does not parse", "site: [", /site.yaml/],
    [
      "an MP outage in a case without a disk",
      SITE_FILE.replace("profile: x86-bios", "profile: x86-bios, mpOutage: { backAfterSec: 5 }"),
      /mpOutage but no disk/,
    ],
  ])("refuses %s with BM5305", async (_, text, message) => {
    const dir = await mkdtemp(join(tmpdir(), "bm-site-"));
    await writeFile(join(dir, "site.yaml"), text);
    await expect(loadSiteFile(join(dir, "site.yaml"))).rejects.toMatchObject({
      code: "BM5305",
      message: expect.stringMatching(message),
    });
  });

  describe("deploy cases: a machine without a disk, DPs serving another library", () => {
    const file = (cases: string) =>
      `site: { siteCode: BM1, managementPoints: [MP1], library: lib, distributionPoints: [{ name: DP1, url: "http://10.0.2.200" }] }
media: { m: m.iso }
cases:
${cases}`;
    const load = async (text: string) => {
      const dir = await mkdtemp(join(tmpdir(), "bm-site-"));
      await writeFile(join(dir, "site.yaml"), text);
      return loadSiteFile(join(dir, "site.yaml"));
    };

    it("reads `disk: none` and a case's dps", async () => {
      const loaded = await load(
        file(`  - { name: bare, media: m, disk: none }
  - { name: changed, media: m, disk: { size: 96MiB }, dps: [{ name: DP1, library: lib-changed }] }
`),
      );
      expect(loaded.data.cases.map((c) => [c.disk, c.dps])).toEqual([
        ["none", undefined],
        [{ size: "96MiB", bus: "virtio", keep: false }, [{ name: "DP1", library: "lib-changed" }]],
      ]);
    });

    it.each([
      ["a disk that is neither none nor a size", "  - { name: c, media: m, disk: nothing }\n", /cases\.0\.disk/],
      [
        "dps without a disk",
        "  - { name: c, media: m, dps: [{ name: DP1, library: x }] }\n",
        /case c has dps but no disk/,
      ],
      [
        "dps naming a DP the site does not have",
        "  - { name: c, media: m, disk: none, dps: [{ name: DP9, library: x }] }\n",
        /names DP9, which is not one of the site's distribution points/,
      ],
    ])("refuses %s with BM5305", async (_, cases, message) => {
      await expect(load(file(cases))).rejects.toMatchObject({
        code: "BM5305",
        message: expect.stringMatching(message),
      });
    });
  });

  describe("a case's `site:` replaces only the parts it names", () => {
    const FILE_SITE = parseSite({
      siteCode: "BM1",
      managementPoints: ["MP1", "MP2"],
      computers: [{ name: "PC-GUEST", mac: "52:54:00:12:34:56" }],
      boundaries: [{ mp: "MP2", ipRanges: ["10.0.2.0/24"] }],
      taskSequences: [
        { id: "BM200010", name: "Windows 11" },
        { id: "BM200011", name: "Windows 10" },
      ],
      deployments: [{ id: "DEP-ALL", taskSequence: "BM200010", target: "all" }],
    });
    const REPLACEMENT: Required<CaseSite> = {
      computers: [{ name: "OTHER", mac: "52:54:00:00:00:01" }],
      boundaries: [],
      deployments: [{ id: "DEP-10", taskSequence: "BM200011", target: "unknown", variables: {} }],
      taskSequences: [
        { id: "BM200010", name: "Windows 11 23H2" },
        { id: "BM200011", name: "Windows 10" },
      ],
    };

    it.each(CASE_SITE_PARTS)("%s alone", async (part) => {
      // Through the file loader, as users write it: only `part` under the case's site.
      const dir = await mkdtemp(join(tmpdir(), "bm-site-"));
      const caseSite = JSON.stringify({ [part]: REPLACEMENT[part] });
      await writeFile(
        join(dir, "site.yaml"),
        `site: { siteCode: BM1, managementPoints: [MP1] }\nmedia: { m: m.iso }\ncases: [{ name: c, media: m, site: ${caseSite} }]\n`,
      );
      const parsed = (await loadSiteFile(join(dir, "site.yaml"))).data.cases[0]!.site!;
      expect(Object.keys(parsed)).toEqual([part]);
      const site = siteOfCase(FILE_SITE, parsed, "test");
      expect(site[part]).toEqual(REPLACEMENT[part]);
      for (const other of CASE_SITE_PARTS.filter((p) => p !== part))
        expect(site[other], other).toEqual(FILE_SITE[other]);
      expect(site.managementPoints).toEqual(FILE_SITE.managementPoints);
    });

    it("no `site:` keeps the file's site; an emptied part is empty", () => {
      expect(siteOfCase(FILE_SITE, undefined, "test")).toBe(FILE_SITE);
      expect(siteOfCase(FILE_SITE, { computers: [] }, "test")).toEqual({ ...FILE_SITE, computers: [] });
    });
  });

  it("reads clocks: relative days, ISO dates, and the certificate's own edges", () => {
    const now = Date.parse("2026-06-01T00:00:00Z");
    expect(clockOf(undefined, media, now)).toBe(now);
    expect(clockOf("+400d", media, now)).toBe(now + 400 * 86_400_000);
    expect(clockOf("2030-01-01", media, now)).toBe(Date.parse("2030-01-01"));
    expect(clockOf("certificate-expired", media, now)).toBe(Date.parse("2027-01-02T00:00:00Z"));
    expect(clockOf("certificate-not-yet-valid", media, now)).toBe(Date.parse("2025-12-31T00:00:00Z"));
    expect(() => clockOf("tomorrow", media, now)).toThrow(/BM5305|not an ISO date/);
  });
});
