import { describe, it, expect } from "vitest";
import {
  buildMatrix,
  judgingOf,
  expectCase,
  selectShard,
  parseShard,
  nicModelForDriver,
  checkNic,
  type MediaUnderTest,
} from "./matrix.ts";
import { readFileSync } from "node:fs";
import { PROFILE_IDS, NIC_IDS, type ProfileId } from "./profiles.ts";
import { certificateSha256 } from "../plugins/secure-boot/trust.ts";
import type { MediaChain } from "../core/secure-boot.ts";

const REFERENCE_DRIVERS = ["e1000", "virtio_net", "e1000e", "sr_mod", "usb_storage"];
const media = (
  images: MediaUnderTest["images"],
  label: string,
  kind: MediaUnderTest["kind"] = "iso",
): MediaUnderTest => ({ kind, path: `/m/${label}.${kind}`, images, drivers: REFERENCE_DRIVERS, label });

describe("expectCase", () => {
  it("no NIC: stand-alone media deploy without one, bootable media stop with no-nic-driver", () => {
    const bootable = media(["x64"], "boot");
    const standalone = { ...media(["x64"], "alone"), standalone: { discs: ["/m/alone.iso"] } };
    expect(expectCase("x64-uefi", bootable, "none")).toEqual({ status: "fail", reason: "no-nic-driver" });
    expect(expectCase("x64-uefi", standalone, "none")).toEqual({ status: "pass" });
    expect(expectCase("x64-uefi", standalone, "rtl8139")).toEqual({ status: "fail", reason: "no-nic-driver" });
  });

  // Written out by hand from the boot rules in docs/design-decisions.md, not derived from compat.ts: an x64 machine in
  // BIOS mode runs x86 or x64 images, an x86 machine only x86, UEFI only its own bitness.
  const TRUTH: Record<string, Record<string, string>> = {
    "x86-bios": { x86: "pass", x64: "fail: needs-x64-cpu", both: "pass" },
    "x64-bios": { x86: "pass", x64: "pass", both: "pass" },
    "x86-uefi": { x86: "pass", x64: "fail: no-boot-file", both: "pass" },
    "x64-uefi": { x86: "fail: no-boot-file", x64: "pass", both: "pass" },
    // Media without a declared chain carry unsigned GRUB: Secure Boot firmware refuses them.
    "x64-uefi-sb-ms": {
      x86: "fail: no-boot-file",
      x64: "fail: secure-boot-refused",
      both: "fail: secure-boot-refused",
    },
    "x64-uefi-sb-own": {
      x86: "fail: no-boot-file",
      x64: "fail: secure-boot-refused",
      both: "fail: secure-boot-refused",
    },
  };
  const IMAGES = { x86: ["x86"], x64: ["x64"], both: ["x86", "x64"] } as const;
  const label = (e: ReturnType<typeof expectCase>) => (e.status === "pass" ? "pass" : `fail: ${e.reason}`);

  it.each(PROFILE_IDS)("follows the architecture rules on %s", (profile) => {
    for (const [set, images] of Object.entries(IMAGES)) {
      expect(label(expectCase(profile, { images: [...images], drivers: REFERENCE_DRIVERS }, "e1000"))).toBe(
        TRUTH[profile][set],
      );
    }
  });

  it("follows the Secure Boot rules per chain (written out by hand: Microsoft's db trusts shim, the snakeoil db only the snakeoil key)", () => {
    const snakeoil = certificateSha256(readFileSync("/usr/share/ovmf/PkKek-1-snakeoil.pem"));
    const chains: Record<string, MediaChain> = {
      unsigned: { chain: "unsigned", kernelSigned: false },
      signed: { chain: "signed", kernelSigned: true },
      snakeoil: { chain: "own-key", signerSha256: snakeoil, kernelSigned: true },
      otherKey: { chain: "own-key", signerSha256: "00".repeat(32), kernelSigned: true },
    };
    const truth = {
      "x64-uefi": { unsigned: "pass", signed: "pass", snakeoil: "pass", otherKey: "pass" },
      "x64-uefi-sb-ms": {
        unsigned: "fail: secure-boot-refused",
        signed: "pass",
        snakeoil: "fail: secure-boot-refused",
        otherKey: "fail: secure-boot-refused",
      },
      "x64-uefi-sb-own": {
        unsigned: "fail: secure-boot-refused",
        signed: "fail: secure-boot-refused",
        snakeoil: "pass",
        otherKey: "fail: secure-boot-refused",
      },
      "x64-bios": { unsigned: "pass", signed: "pass", snakeoil: "pass", otherKey: "pass" },
    } as const;
    for (const [profile, row] of Object.entries(truth)) {
      for (const [chain, want] of Object.entries(row)) {
        expect(
          label(
            expectCase(
              profile as ProfileId,
              { images: ["x64"], drivers: REFERENCE_DRIVERS, secureBoot: chains[chain] },
              "e1000",
            ),
          ),
          `${profile} ${chain}`,
        ).toBe(want);
      }
    }
  });

  it("expects no-nic-driver when the boot image lacks the NIC's driver, after the boot rules", () => {
    expect(expectCase("x64-bios", { images: ["x64"], drivers: REFERENCE_DRIVERS }, "rtl8139")).toEqual({
      status: "fail",
      reason: "no-nic-driver",
    });
    expect(expectCase("x64-bios", { images: ["x64"], drivers: ["e1000"] }, "virtio-net-pci")).toEqual({
      status: "fail",
      reason: "no-nic-driver",
    });
    expect(expectCase("x86-bios", { images: ["x64"], drivers: REFERENCE_DRIVERS }, "rtl8139")).toEqual({
      status: "fail",
      reason: "needs-x64-cpu",
    });
  });

  it("expects a media's own failure (wrong password, prestart) only where the rules predict a boot", () => {
    const m = {
      images: ["x64"] as MediaUnderTest["images"],
      drivers: REFERENCE_DRIVERS,
      expectFailure: "wrong-password" as const,
    };
    expect(expectCase("x64-bios", m, "e1000")).toEqual({ status: "fail", reason: "wrong-password" });
    expect(expectCase("x86-bios", m, "e1000")).toEqual({ status: "fail", reason: "needs-x64-cpu" });
    expect(expectCase("x64-bios", m, "rtl8139")).toEqual({ status: "fail", reason: "no-nic-driver" });
  });
});

describe("buildMatrix and shards", () => {
  const all = buildMatrix(
    [media(["x86", "x64"], "both"), media(["x64"], "x64", "usb"), media(["x86"], "x86")],
    PROFILE_IDS,
    NIC_IDS,
  );

  it("crosses profiles × media × NICs with unique, sorted ids", () => {
    expect(all).toHaveLength(PROFILE_IDS.length * 3 * NIC_IDS.length);
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
    expect(all.map((c) => c.id)).toEqual([...all.map((c) => c.id)].sort());
    expect(all.find((c) => c.id === "x86-uefi.x64.e1000")?.expected).toEqual({
      status: "fail",
      reason: "no-boot-file",
    });
  });

  it("rejects two media with the same label", () => {
    expect(() => buildMatrix([media(["x64"], "same"), media(["x86"], "same")])).toThrow(
      expect.objectContaining({ code: "BM5007" }),
    );
  });

  it.each([1, 2, 3, 5, 7, 48, 60])("covers every case exactly once in %i shards, whatever the input order", (count) => {
    const shuffled = [...all].reverse();
    const seen = Array.from({ length: count }, (_, i) => selectShard(shuffled, { index: i + 1, count }))
      .flat()
      .map((c) => c.id);
    expect(seen.sort()).toEqual(all.map((c) => c.id));
    expect(selectShard(all, { index: 1, count })).toEqual(selectShard(shuffled, { index: 1, count }));
  });

  it("parses i/n and refuses what is not a shard", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    for (const bad of ["0/4", "5/4", "1/0", "a/b", "1-4", "1.5/3"])
      expect(() => parseShard(bad)).toThrow(expect.objectContaining({ code: "BM5006" }));
  });
});

describe("NIC names", () => {
  it("maps the drivers a spec names to NIC models, and refuses unknown models", () => {
    expect(["e1000", "virtio_net", "e1000e", "8139too", "tg3"].map(nicModelForDriver)).toEqual([
      "e1000",
      "virtio-net-pci",
      "e1000e",
      "rtl8139",
      undefined,
    ]);
    expect(() => checkNic("ne2k_pci")).toThrow(expect.objectContaining({ code: "BM5005" }));
  });
});

describe("judgingOf", () => {
  const debian: MediaUnderTest = {
    ...media(["x86", "x64"], "debian"),
    imageTestbed: {
      x64: { pass: { serial: "x64 installer" }, memoryMiB: 1024 },
      x86: { pass: { screen: "x86 installer" }, memoryMiB: 768 },
    },
  };

  it("takes the pass pattern and least memory of the image each profile boots", () => {
    expect(judgingOf("x64-bios", debian)).toEqual({ pass: { serial: "x64 installer" }, minMemoryMiB: 1024 });
    expect(judgingOf("x86-bios", debian)).toEqual({ pass: { screen: "x86 installer" }, minMemoryMiB: 768 });
    expect(judgingOf("x86-uefi", debian)).toEqual({ pass: { screen: "x86 installer" }, minMemoryMiB: 768 });
    expect(judgingOf("x86-bios", { ...debian, images: ["x64"] })).toEqual({});
  });

  it("lets the media's own pattern win and its memory raise the image's", () => {
    expect(judgingOf("x64-bios", { ...debian, pass: { screen: "mine" }, memoryMiB: 2048 })).toEqual({
      pass: { screen: "mine" },
      minMemoryMiB: 2048,
    });
    expect(judgingOf("x64-bios", { ...debian, memoryMiB: 600 })).toMatchObject({ minMemoryMiB: 1024 });
    const [c] = buildMatrix([debian], ["x64-uefi"], ["e1000"]);
    expect(c).toMatchObject({ pass: { serial: "x64 installer" }, minMemoryMiB: 1024 });
  });

  it("leaves media without hints as before", () => {
    expect(judgingOf("x64-bios", media(["x64"], "plain"))).toEqual({});
  });
});
