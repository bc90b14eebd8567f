/**
 * SBAT revocation levels as data: the minimum generation per component that shims apply
 * (into the SbatLevel UEFI variable) and below which they refuse a binary.
 *
 * Source: rhboot/shim SbatLevel_Variable.txt (commit 72fd4b70e7562d25234204249462da97080ef56f,
 * 2026-07-27), whose entries the same shim builds into its `.sbatlevel` section; Debian 12's
 * shim-signed 1.51~1+deb12u1+16.1 carries `previous` = 2025021800 and `latest` = 2025051000
 * (read with `objcopy -O binary --only-section=.sbatlevel /usr/lib/shim/shimx64.efi.signed`).
 * A shim on the media carries its own levels; `inspect` checks against those and these.
 */
import type { SbatLevel } from "../../formats/pe/index.ts";

export const SBAT_LEVELS_SOURCE = "rhboot/shim SbatLevel_Variable.txt @72fd4b70 (2026-07-27)";

const SBAT_LEVELS: readonly SbatLevel[] = [
  { date: "2022052400", minimum: { shim: 2, grub: 2 } },
  { date: "2023012900", minimum: { shim: 2, grub: 3, "grub.debian": 4 } },
  { date: "2024010900", minimum: { shim: 4, grub: 3, "grub.debian": 4 } },
  { date: "2024040900", minimum: { shim: 4, grub: 4, "grub.peimage": 2 } },
  { date: "2025021800", minimum: { shim: 4, grub: 5 } },
  { date: "2025051000", minimum: { shim: 4, grub: 5, "grub.proxmox": 2 } },
];

/** The newest level recorded: what `inspect` warns against. */
export const LATEST_SBAT_LEVEL: SbatLevel = SBAT_LEVELS[SBAT_LEVELS.length - 1]!;
