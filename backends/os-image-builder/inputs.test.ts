import { describe, expect, it } from "vitest";
import { debFileName, inReleaseUrl, newestSuiteEpoch, packageIndexesKey } from "./inputs.ts";

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
        { url: "a", date: "Sat, 09 Aug 2025 09:08:18 UTC", sha256: "", packagesSha256: "" },
        { url: "b", date: "Sun, 07 Dec 2025 08:00:00 UTC", sha256: "", packagesSha256: "" },
      ]),
    ).toBe(Date.UTC(2025, 11, 7, 8) / 1000);
  });

  describe("keys the cache by the arch's package indexes, not by the InRelease's bytes", () => {
    const inRelease = (date: string, amd64: string, i386: string) => `-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

Origin: Debian
Suite: stable-security
Date: ${date}
Valid-Until: Sun, 14 Dec 2025 08:00:00 UTC
MD5Sum:
 0123456789abcdef0123456789abcdef   123 main/binary-amd64/Packages
SHA256:
 ${amd64}  9001 main/binary-amd64/Packages
 ${amd64.replace(/^./, "f")}  2001 main/binary-amd64/Packages.xz
 ${i386}  8001 main/binary-i386/Packages.xz
 ${"c".repeat(64)}  501 main/binary-all/Packages.xz
 ${"d".repeat(64)}  77 main/source/Sources.xz
-----BEGIN PGP SIGNATURE-----
${date}
-----END PGP SIGNATURE-----
`;
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    const key = (text: string, arch = "amd64") => packageIndexesKey(text, ["main"], arch);
    it("a re-signed suite (new Date, same indexes) keeps its key", () => {
      expect(key(inRelease("Sun, 07 Dec 2025 08:00:00 UTC", a, b))).toBe(
        key(inRelease("Mon, 08 Dec 2025 02:00:00 UTC", a, b)),
      );
    });
    it("a changed index of the arch changes it; another arch's does not", () => {
      const base = key(inRelease("d", a, b));
      expect(key(inRelease("d", "e".repeat(64), b))).not.toBe(base);
      expect(key(inRelease("d", a, "e".repeat(64)))).toBe(base);
      expect(key(inRelease("d", a, "e".repeat(64)), "i386")).not.toBe(key(inRelease("d", a, b), "i386"));
    });
    it("ignores sources and other components", () => {
      const text = inRelease("d", a, b);
      expect(key(text.replace("d".repeat(64), "9".repeat(64)))).toBe(key(text));
      expect(packageIndexesKey(text, ["contrib"], "amd64")).not.toBe(key(text));
    });
  });
});
