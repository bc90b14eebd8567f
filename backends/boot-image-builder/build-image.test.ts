import { describe, expect, it } from "vitest";
import { isBootmediaError } from "../../base/errors.ts";
import { MODULE_GROUPS } from "./config.ts";
import { buildBootImage, moduleGroupsFor } from "./build-image.ts";

const DEP = [
  "kernel/drivers/net/ethernet/realtek/r8169.ko.xz: kernel/drivers/net/phy/libphy.ko.xz",
  "kernel/drivers/net/phy/libphy.ko.xz:",
  "kernel/drivers/nvme/host/nvme.ko.xz: kernel/drivers/nvme/host/nvme-core.ko.xz",
  "kernel/drivers/nvme/host/nvme-core.ko.xz:",
].join("\n");

describe("boot-image build --drivers", () => {
  it("keeps the default groups when no drivers are given", () => {
    expect(moduleGroupsFor(undefined, DEP)).toBe(MODULE_GROUPS);
  });

  it("replaces the NICs with the given net drivers and adds other modules to storage, keeping what finds the media", () => {
    const g = moduleGroupsFor(["r8169", "nvme"], DEP);
    expect(g.nic).toEqual(["r8169"]);
    expect(g.storage).toEqual(expect.arrayContaining([...MODULE_GROUPS.storage, "nvme"]));
    expect(new Set(g.storage).size).toBe(g.storage.length);
    expect(g.fs).toEqual(MODULE_GROUPS.fs);
    expect(g.bus).toEqual(MODULE_GROUPS.bus);
  });

  it("names a module the kernel lacks (BM2202)", () => {
    try {
      moduleGroupsFor(["e1000"], DEP);
      expect.unreachable();
    } catch (e) {
      expect(isBootmediaError(e) && e.code).toBe("BM2202");
    }
  });
});

describe("boot-image build with a signing key", () => {
  it("refuses an x86 image at once (BM3704: no Secure Boot chain for 32-bit UEFI), before any tool runs or folder is made", async () => {
    const { existsSync } = await import("node:fs");
    const library = `/tmp/bm-never-written-${process.pid}`;
    const signer = {
      keyPem: "",
      certificatePath: "/nonexistent.pem",
      certificatePem: "",
      certificateSha256: "0".repeat(64),
      subject: "/CN=test",
    };
    try {
      await buildBootImage({ arch: "x86", library, workDir: `${library}-work`, signer });
      expect.unreachable();
    } catch (e) {
      expect(isBootmediaError(e) && e.code).toBe("BM3704");
    }
    expect(existsSync(library) || existsSync(`${library}-work`)).toBe(false);
  });
});
