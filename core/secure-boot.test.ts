import { describe, expect, it } from "vitest";
import { planSecureBoot, SB_CHAINS, type MediaChain, type SbMachine } from "./secure-boot.ts";

const OWN = "ab".repeat(32);
const ms: SbMachine = { arch: "x64", firmware: "uefi", secureBoot: true, trust: { kind: "microsoft" } };
const own: SbMachine = {
  arch: "x64",
  firmware: "uefi",
  secureBoot: true,
  trust: { kind: "certificate", sha256: OWN, label: "own.pem" },
};
const chains: Record<string, MediaChain> = {
  unsigned: { chain: "unsigned", kernelSigned: false },
  signed: { chain: "signed", kernelSigned: true },
  ownKey: { chain: "own-key", signerSha256: OWN, kernelSigned: true },
  otherKey: { chain: "own-key", signerSha256: "cd".repeat(32), kernelSigned: true },
  ownKeyBareKernel: { chain: "own-key", signerSha256: OWN, kernelSigned: false },
};

describe("planSecureBoot", () => {
  it("machines without Secure Boot start every chain", () => {
    for (const chain of SB_CHAINS) {
      for (const m of [
        { arch: "x64", firmware: "uefi" },
        { arch: "x86", firmware: "bios", secureBoot: true },
      ] as SbMachine[]) {
        expect(planSecureBoot(m, { chain, kernelSigned: false })).toEqual({ ok: true });
      }
    }
  });
  it.each([
    ["ms", "unsigned", "unsigned-loader"],
    ["ms", "signed", null],
    ["ms", "ownKey", "untrusted-signer"],
    ["own", "unsigned", "unsigned-loader"],
    ["own", "signed", "untrusted-signer"],
    ["own", "ownKey", null],
    ["own", "otherKey", "untrusted-signer"],
    ["own", "ownKeyBareKernel", "kernel-untrusted"],
  ] as const)("%s machine, %s media: %s", (machine, chain, refusal) => {
    const plan = planSecureBoot(machine === "ms" ? ms : own, chains[chain]);
    expect(plan).toEqual(refusal === null ? { ok: true } : { ok: false, refusal });
  });
  it("ia32 UEFI with Secure Boot has no signed chain", () => {
    expect(planSecureBoot({ ...ms, arch: "x86" }, chains.signed)).toEqual({ ok: false, refusal: "no-ia32-chain" });
    // Nor an own-key one: Debian ships no ia32 shim to sign.
    expect(
      planSecureBoot(
        {
          arch: "x86",
          firmware: "uefi",
          secureBoot: true,
          trust: { kind: "certificate", sha256: "ab", label: "db.pem" },
        },
        { chain: "own-key", signerSha256: "ab", kernelSigned: true },
      ),
    ).toEqual({ ok: false, refusal: "no-ia32-chain" });
  });
  it("a machine saying secureBoot without trust trusts Microsoft's CA", () => {
    expect(planSecureBoot({ arch: "x64", firmware: "uefi", secureBoot: true }, chains.signed)).toEqual({ ok: true });
  });
});
