import { describe, it, expect } from "vitest";
import { machineMemoryMiB, parseMemoryOption } from "./memory.ts";
import { PROFILE_IDS, buildQemuArgs } from "./profiles.ts";
import { isBootmediaError } from "../base/errors.ts";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return isBootmediaError(e) ? e.code : String(e);
  }
  return "no error";
};

describe("machine memory", () => {
  it("is 512 MiB on every profile by default, on QEMU's command line", () => {
    for (const p of PROFILE_IDS) {
      expect(machineMemoryMiB(p, undefined)).toBe(512);
      const args = buildQemuArgs({
        profile: p,
        media: { kind: "iso", path: "/m" },
        nic: null,
        qmpSocket: "/s",
        varsPath: "/v",
        accel: "tcg",
        memoryMiB: machineMemoryMiB(p, undefined),
      });
      expect(args[args.indexOf("-m") + 1]).toBe("512");
    }
  });

  it("takes one figure or per-profile figures, and a media's least memory raises either", () => {
    expect(machineMemoryMiB("x64-uefi", 1024)).toBe(1024);
    const perProfile = parseMemoryOption("x64-uefi=2048, x86-bios=768");
    expect(perProfile).toEqual({ "x64-uefi": 2048, "x86-bios": 768 });
    expect(machineMemoryMiB("x64-uefi", perProfile)).toBe(2048);
    expect(machineMemoryMiB("x64-bios", perProfile)).toBe(512);
    expect(machineMemoryMiB("x64-bios", perProfile, 1024)).toBe(1024);
    expect(machineMemoryMiB("x64-uefi", perProfile, 1024)).toBe(2048);
    expect(parseMemoryOption("1536")).toBe(1536);
  });

  it("refuses figures out of range or malformed as BM5013, unknown profiles as BM5004", () => {
    expect(codeOf(() => parseMemoryOption("64"))).toBe("BM5013");
    expect(codeOf(() => parseMemoryOption("x64-uefi=1G"))).toBe("BM5013");
    expect(codeOf(() => parseMemoryOption(","))).toBe("BM5013");
    expect(codeOf(() => parseMemoryOption("arm-uefi=1024"))).toBe("BM5004");
  });
});
