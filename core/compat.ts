/**
 * Boot compatibility rules, as data, in one place. The validator enforces them at build
 * time and the testbed derives every case's expected verdict from them.
 *
 * The wizard's rules: "an x64 destination computer can boot and run an x86 or x64 boot image; an
 * x86 destination computer can boot and run only an x86 boot image". UEFI firmware only
 * starts boot files of its own bitness (BOOTX64.EFI / BOOTIA32.EFI), and the boot file of
 * a bitness is carried by the boot image of that architecture.
 */
export const ARCHES = ["x86", "x64"] as const;
export type Arch = (typeof ARCHES)[number];

export const FIRMWARES = ["bios", "uefi"] as const;
export type Firmware = (typeof FIRMWARES)[number];

export interface Machine {
  arch: Arch;
  firmware: Firmware;
}

/** Which image architectures a machine can run, per firmware. */
const RUNNABLE_IMAGES = {
  bios: { x86: ["x86"], x64: ["x86", "x64"] },
  uefi: { x86: ["x86"], x64: ["x64"] },
} as const satisfies Record<Firmware, Record<Arch, readonly Arch[]>>;

/** Why a machine cannot boot a media; each reason is also what the boot path prints. */
export const INCOMPATIBLE_REASONS = {
  /** BIOS x86 machine, only x64 images on the media: GRUB prints the marker and stops. */
  "needs-x64-cpu": "the media holds only x64 boot images and this machine has no 64-bit CPU",
  /** UEFI machine without a boot file of its bitness: the firmware finds nothing to boot. */
  "no-boot-file": "the media has no UEFI boot file for this machine's bitness",
} as const;
/** @public reachable from the package's API types. */
export type IncompatibleReason = keyof typeof INCOMPATIBLE_REASONS;

/** @public reachable from the package's API types. */
export type BootPlan = { ok: true; image: Arch } | { ok: false; reason: IncompatibleReason };

/**
 * Which image a machine boots from media carrying `images`: the best runnable one
 * (x64 preferred on a 64-bit machine), or why none runs.
 */
export function planBoot(machine: Machine, images: readonly Arch[]): BootPlan {
  const runnable = RUNNABLE_IMAGES[machine.firmware][machine.arch] as readonly Arch[];
  const candidates = runnable.filter((a) => images.includes(a));
  if (candidates.length === 0) {
    return { ok: false, reason: machine.firmware === "uefi" ? "no-boot-file" : "needs-x64-cpu" };
  }
  return { ok: true, image: candidates.includes("x64") ? "x64" : "x86" };
}

/** True when every NIC driver the machine needs is in the boot image's driver list. */
export function missingDrivers(needed: readonly string[], carried: readonly string[]): string[] {
  return needed.filter((d) => !carried.includes(d));
}
