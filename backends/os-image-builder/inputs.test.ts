import { describe, expect, it } from "vitest";
import { debFileName, inReleaseUrl, newestSuiteEpoch } from "./inputs.ts";

describe("build inputs", () => {
  it("finds each source's InRelease", () => {
    expect(inReleaseUrl("deb http://deb.debian.org/debian-security bookworm-security main")).toBe(
      "http://deb.debian.org/debian-security/dists/bookworm-security/InRelease",
    );
  });
  it("names .debs as apt-get download does (an epoch's colon as %3a)", () => {
    expect(debFileName({ name: "systemd", version: "252.39-1~deb12u1", arch: "amd64" })).toBe(
      "systemd_252.39-1~deb12u1_amd64.deb",
    );
    expect(debFileName({ name: "grub-pc-bin", version: "2.06-13+deb12u1", arch: "amd64" })).toBe(
      "grub-pc-bin_2.06-13+deb12u1_amd64.deb",
    );
    expect(debFileName({ name: "libc6", version: "1:2.36-9", arch: "i386" })).toBe("libc6_1%3a2.36-9_i386.deb");
  });
  it("takes the newest suite Date as the default epoch", () => {
    expect(
      newestSuiteEpoch([
        { url: "a", date: "Sat, 09 Aug 2025 09:08:18 UTC", sha256: "" },
        { url: "b", date: "Sun, 07 Dec 2025 08:00:00 UTC", sha256: "" },
      ]),
    ).toBe(Date.UTC(2025, 11, 7, 8) / 1000);
  });
});
