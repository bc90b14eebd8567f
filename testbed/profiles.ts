/**
 * Machine profiles, media attachments and NIC models as data. `buildQemuArgs` turns one
 * case into a QEMU command line; nothing else in the testbed knows QEMU flags.
 */
import type { Machine } from "../core/compat.ts";
import type { HostTool } from "../core/doctor.ts";

export const PROFILE_IDS = [
  "x86-bios",
  "x64-bios",
  "x86-uefi",
  "x64-uefi",
  "x64-uefi-sb-ms",
  "x64-uefi-sb-own",
] as const;
export type ProfileId = (typeof PROFILE_IDS)[number];

export interface UefiFlash {
  /** Read-only firmware code volume (a file of the doctor's table, like every host file the testbed opens). */
  code: HostTool;
  /** Variable store template; each case boots from its own writable copy. */
  vars: HostTool;
}

/** QEMU's system emulators (rows of the doctor's table). */
export type QemuBinary = Extract<HostTool, `qemu-system-${string}`>;

export interface MachineProfile {
  machine: Machine;
  binary: QemuBinary;
  /** QEMU machine type and options. */
  machineType: string;
  /** `qemu32` has no long mode (GRUB's `cpuid -l` is false), so it is a true 32-bit CPU. */
  cpu: string;
  flash: UefiFlash | null;
  /** Extra flags the firmware needs. */
  extra: readonly string[];
  /**
   * Secure Boot enforced by the firmware, and what its db trusts: Microsoft's UEFI CA, or the
   * certificate at `certificate` (with its private key at `key`, the own-key chain's signer in tests).
   */
  secureBoot?: { trust: "microsoft" } | { trust: "certificate"; certificate: HostTool; key: string; password: string };
  /** Default memory (MiB); `--memory` and a media's or boot image's least memory raise it (memory.ts). */
  memoryMiB: number;
}

/** Debian's OVMF with Secure Boot enforced needs SMM and a secure flash, as the ia32 build does. */
const SECURE_FLASH = ["-global", "driver=cfi.pflash01,property=secure,value=on"] as const;

/** An x64 q35 machine with Secure Boot enforced by Debian's OVMF_{CODE,VARS}_4M.<variant>.fd. */
function x64SecureBoot<S extends NonNullable<MachineProfile["secureBoot"]>>(
  variant: "ms" | "snakeoil",
  secureBoot: S,
): MachineProfile & { secureBoot: S } {
  return {
    machine: { arch: "x64", firmware: "uefi" },
    binary: "qemu-system-x86_64",
    machineType: "q35,smm=on",
    cpu: "qemu64",
    flash: {
      code: `/usr/share/OVMF/OVMF_CODE_4M.${variant}.fd` as const,
      vars: `/usr/share/OVMF/OVMF_VARS_4M.${variant}.fd` as const,
    },
    extra: SECURE_FLASH,
    memoryMiB: 512,
    secureBoot,
  };
}

export const PROFILES = {
  "x86-bios": {
    machine: { arch: "x86", firmware: "bios" },
    binary: "qemu-system-i386",
    machineType: "pc",
    cpu: "qemu32",
    flash: null,
    extra: [],
    memoryMiB: 512,
  },
  "x64-bios": {
    machine: { arch: "x64", firmware: "bios" },
    binary: "qemu-system-x86_64",
    machineType: "pc",
    cpu: "qemu64",
    flash: null,
    extra: [],
    memoryMiB: 512,
  },
  "x86-uefi": {
    machine: { arch: "x86", firmware: "uefi" },
    binary: "qemu-system-i386",
    // Debian's ia32 OVMF is only built with SMM + secure pflash; without both it hangs silently.
    machineType: "q35,smm=on",
    cpu: "qemu32",
    flash: { code: "/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd", vars: "/usr/share/OVMF/OVMF32_VARS_4M.fd" },
    extra: SECURE_FLASH,
    memoryMiB: 512,
  },
  "x64-uefi": {
    machine: { arch: "x64", firmware: "uefi" },
    binary: "qemu-system-x86_64",
    machineType: "q35",
    cpu: "qemu64",
    flash: { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd" },
    extra: [],
    memoryMiB: 512,
  },
  /** Secure Boot on, Microsoft's keys enrolled (PK/KEK/db as on shipped PCs): Debian's ovmf `.ms` images. */
  "x64-uefi-sb-ms": x64SecureBoot("ms", { trust: "microsoft" }),
  /**
   * Secure Boot on, only Debian's snakeoil test key in PK/KEK/db; its private key ships in the
   * ovmf package (README.Debian gives its password), so tests sign the own-key chain with it.
   */
  "x64-uefi-sb-own": x64SecureBoot("snakeoil", {
    trust: "certificate",
    certificate: "/usr/share/ovmf/PkKek-1-snakeoil.pem",
    key: "/usr/share/ovmf/PkKek-1-snakeoil.key",
    password: "snakeoil",
  }),
} as const satisfies Record<ProfileId, MachineProfile>;

export const MEDIA_KINDS = ["iso", "usb"] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** How each media kind is plugged in; `bootindex=0` makes it the first boot option on SeaBIOS and OVMF. */
const MEDIA_ARGS = {
  // The drive's id (cd0) is what QMP's blockdev-change-medium names to change the disc.
  iso: (path: string) => [
    "-drive",
    `if=none,id=media,media=cdrom,readonly=on,format=raw,file=${path}`,
    "-device",
    `ide-cd,drive=media,id=${CD_DRIVE},bootindex=0`,
  ],
  usb: (path: string, writable?: boolean) => [
    "-device",
    "qemu-xhci,id=xhci",
    "-drive",
    `if=none,id=media,${writable ? "" : "readonly=on,"}format=raw,file=${path}`,
    "-device",
    "usb-storage,bus=xhci.0,drive=media,bootindex=0",
  ],
} as const satisfies Record<MediaKind, (path: string, writable?: boolean) => string[]>;

/** The CD/DVD drive's QOM id (a set's discs are changed in it). */
export const CD_DRIVE = "cd0";

/** Disk controllers a deploy case's blank disk hangs on: each one SeaBIOS and OVMF boot from. */
export const DISK_BUSES = ["nvme", "virtio", "sata"] as const;
export type DiskBus = (typeof DISK_BUSES)[number];

/** The disk's serial number as the guest reads it (/sys/block/X/device/serial, NVMe and virtio). */
export const DISK_SERIAL = "BMDISK0001";

/** How the deploy disk is plugged in (an AHCI controller of its own for SATA: `pc` has none). */
function diskArgs(disk: NonNullable<QemuInvocation["disk"]>): string[] {
  const drive = ["-drive", `if=none,id=disk0,format=raw,file=${disk.path}`];
  const boot = `bootindex=${disk.bootindex}`;
  switch (disk.bus) {
    case "nvme":
      return [...drive, "-device", `nvme,drive=disk0,serial=${DISK_SERIAL},${boot}`];
    case "virtio":
      return [...drive, "-device", `virtio-blk-pci,drive=disk0,serial=${DISK_SERIAL},${boot}`];
    case "sata":
      return [
        ...drive,
        "-device",
        "ahci,id=ahci0",
        "-device",
        `ide-hd,drive=disk0,bus=ahci0.0,serial=${DISK_SERIAL},${boot}`,
      ];
  }
}

/** NIC models and the Linux driver a boot image must carry to use each. */
export const NIC_MODELS = {
  e1000: { drivers: ["e1000"] },
  "virtio-net-pci": { drivers: ["virtio_net"] },
  e1000e: { drivers: ["e1000e"] },
  rtl8139: { drivers: ["8139too"] },
  /** No NIC at all: stand-alone media deploy without a network; bootable media stop (no-nic-driver). */
  none: { drivers: [] },
} as const satisfies Record<string, { drivers: readonly string[] }>;
export type NicModel = keyof typeof NIC_MODELS;
export const NIC_IDS = Object.keys(NIC_MODELS) as NicModel[];

/** Port and value of the success exit: QEMU exits with (0x31 << 1) | 1 = 99. */
export const DEBUG_EXIT = { iobase: 0xf4, iosize: 0x04, successStatus: 99 } as const;

export const ACCELS = ["tcg", "kvm"] as const;
export type Accel = (typeof ACCELS)[number];

/** @public reachable from the package's API types. */
export interface QemuInvocation {
  profile: ProfileId;
  /** Absent: a machine booting from its disk alone (a deploy case's second boot). Writable: a USB drive the guest may write (stand-alone media's logs). */
  media?: { kind: MediaKind; path: string; writable?: boolean };
  /** A deploy case's disk; `bootindex` 1 behind the media, 0 without. */
  disk?: { path: string; bus: DiskBus; bootindex: number };
  nic: NicModel | null;
  qmpSocket: string;
  /** This case's writable copy of the UEFI variable store (UEFI profiles only). */
  varsPath?: string;
  accel: Accel;
  memoryMiB?: number;
  /** Direct kernel boot, bypassing the media's boot loader (used by the bench baseline). */
  kernel?: { path: string; initrd: string; append: string };
}

/** The full QEMU argument vector for one case; the serial console goes to stdout. */
export function buildQemuArgs(inv: QemuInvocation): string[] {
  const p: MachineProfile = PROFILES[inv.profile];
  const args = [
    // -nodefaults: no implicit NIC (its option ROM would try PXE), CD-ROM or monitor.
    "-nodefaults",
    "-no-reboot",
    "-display",
    "none",
    "-device",
    "VGA",
    "-accel",
    inv.accel,
    "-M",
    p.machineType,
    "-cpu",
    p.cpu,
    "-m",
    String(inv.memoryMiB ?? p.memoryMiB),
    ...p.extra,
    "-chardev",
    "stdio,id=serial0,signal=off",
    "-serial",
    "chardev:serial0",
    "-qmp",
    `unix:${inv.qmpSocket},server=on,wait=off`,
    "-device",
    `isa-debug-exit,iobase=0x${DEBUG_EXIT.iobase.toString(16)},iosize=0x0${DEBUG_EXIT.iosize}`,
    // A failed BIOS boot reboots after 1 s, which -no-reboot turns into an exit: fast verdict.
    "-boot",
    "strict=on,reboot-timeout=1000",
  ];
  if (p.flash) {
    if (!inv.varsPath) throw new Error(`profile ${inv.profile} needs a writable UEFI vars copy`);
    args.push(
      "-drive",
      `if=pflash,format=raw,unit=0,readonly=on,file=${p.flash.code}`,
      "-drive",
      `if=pflash,format=raw,unit=1,file=${inv.varsPath}`,
    );
  }
  if (inv.media) args.push(...MEDIA_ARGS[inv.media.kind](inv.media.path, inv.media.writable));
  if (inv.disk) args.push(...diskArgs(inv.disk));
  if (inv.nic && inv.nic !== "none") {
    // romfile= drops the NIC option ROM: the testbed boots media, never the network.
    args.push("-netdev", "user,id=n0,restrict=on", "-device", `${inv.nic},netdev=n0,romfile=`);
  }
  if (inv.kernel) {
    args.push("-kernel", inv.kernel.path, "-initrd", inv.kernel.initrd, "-append", inv.kernel.append);
  }
  return args;
}
