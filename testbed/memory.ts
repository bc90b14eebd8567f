/**
 * Machine memory per case: the profile's default (profiles.ts), replaced by the run's
 * `memoryMiB` option (one figure for every profile, or per profile), and raised to the
 * least memory the media or its booted image asks for (an installer that would run in
 * low-memory mode with less).
 */
import { BootmediaError } from "../base/errors.ts";
import { PROFILES, PROFILE_IDS, type ProfileId } from "./profiles.ts";
import "./codes.ts";

/** One figure for every profile, or per profile (others keep their default). */
export type MemoryOption = number | Partial<Record<ProfileId, number>>;

/** QEMU's floor for a PC that still boots firmware and Linux, and a ceiling for 32-bit guests' sake. */
const MEMORY_LIMITS_MIB = { min: 128, max: 65536 } as const;

export function checkMemoryMiB(value: number, where: string): number {
  if (!Number.isInteger(value) || value < MEMORY_LIMITS_MIB.min || value > MEMORY_LIMITS_MIB.max) {
    throw new BootmediaError(
      "BM5013",
      `memory ${value} MiB for ${where} is not a whole number from ${MEMORY_LIMITS_MIB.min} to ${MEMORY_LIMITS_MIB.max}`,
      { where },
    );
  }
  return value;
}

/** The memory one case's machine gets. */
export function machineMemoryMiB(profile: ProfileId, option: MemoryOption | undefined, minMiB = 0): number {
  const chosen = typeof option === "number" ? option : option?.[profile];
  return Math.max(chosen ?? PROFILES[profile].memoryMiB, minMiB);
}

/** The CLI form: `1024` (every profile) or `x64-uefi=2048,x86-bios=768`. */
export function parseMemoryOption(text: string): MemoryOption {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return checkMemoryMiB(Number(trimmed), "every profile");
  const out: Partial<Record<ProfileId, number>> = {};
  for (const item of trimmed
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9-]+)=(\d+)$/.exec(item);
    if (!m)
      throw new BootmediaError("BM5013", `--memory wants MiB or PROFILE=MiB,..., got ${JSON.stringify(item)}`, {
        where: item,
      });
    if (!(PROFILE_IDS as readonly string[]).includes(m[1]!))
      throw new BootmediaError("BM5004", `unknown machine profile ${JSON.stringify(m[1])} in --memory`);
    out[m[1] as ProfileId] = checkMemoryMiB(Number(m[2]), m[1]!);
  }
  if (Object.keys(out).length === 0) throw new BootmediaError("BM5013", "--memory is empty", { where: "--memory" });
  return out;
}
