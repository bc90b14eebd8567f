/**
 * Installs GRUB's BIOS boot code the way `grub-bios-setup` does when it embeds core.img in
 * the gap after the MBR (GRUB 2.06 util/setup.c; include/grub/i386/pc/boot.h;
 * grub-core/boot/i386/pc/diskboot.S). Only GRUB's own images run; we patch their fields.
 */
import { BootmediaError } from "../../base/errors.ts";
import { bytes, decodeRecord, defineRecord, encodeRecord, u8, u16le, u64le } from "../record.ts";
import { MBR_BYTES } from "./mbr.ts";
import "./codes.ts";

/** Fields of boot.img (include/grub/i386/pc/boot.h). */
export const GRUB_BOOT_IMG = defineRecord(MBR_BYTES, {
  /** GRUB_BOOT_MACHINE_BPB_START..BPB_END: a BIOS parameter block, kept from the old sector. */
  Bpb: bytes(0x03, 0x5a - 0x03),
  /** GRUB_BOOT_MACHINE_KERNEL_SECTOR: LBA of core.img's first sector. */
  KernelSector: u64le(0x5c),
  /** GRUB_BOOT_MACHINE_BOOT_DRIVE: 0xff = use the drive the BIOS passes in DL. */
  BootDrive: u8(0x64),
  /** GRUB_BOOT_MACHINE_DRIVE_CHECK: a jmp that skips the "buggy BIOS" drive fix-up. */
  DriveCheck: bytes(0x66, 2),
  /** GRUB_BOOT_MACHINE_WINDOWS_NT_MAGIC..PART_END: disk signature and partition table, kept. */
  PartitionArea: bytes(0x1b8, 0x1fe - 0x1b8),
  Signature: u16le(0x1fe),
});

const BLOCKLIST_BYTES = 12;
/** One blocklist entry at the end of core.img's first sector (struct grub_pc_bios_boot_blocklist). */
const GRUB_BLOCKLIST = defineRecord(BLOCKLIST_BYTES, {
  Start: u64le(0),
  Len: u16le(8),
  Segment: u16le(10),
});
/** GRUB_BOOT_I386_PC_KERNEL_SEG + one sector in paragraphs: where diskboot loads the rest. */
const CORE_LOAD_SEGMENT = 0x800 + (512 >> 4);
const NOP_NOP = Buffer.from([0x90, 0x90]);

/** Largest core.img that fits between the MBR and a partition at `partitionLba`. */
function maxCoreImgBytes(partitionLba: number, coreLba = 1): number {
  return (partitionLba - coreLba) * 512;
}

/** Refuses images that are not GRUB's i386-pc boot.img / a core.img that fits (BM3208/BM3209). */
export function checkGrubImages(
  bootImg: Buffer,
  coreImg: Buffer,
  partitionLba: number,
  where: { boot: string; core: string },
): void {
  if (bootImg.length !== MBR_BYTES || decodeRecord(GRUB_BOOT_IMG, bootImg, 0).Signature !== 0xaa55) {
    throw new BootmediaError("BM3208", `${where.boot} is not a 512-byte boot sector (GRUB's i386-pc boot.img).`, {
      where: where.boot,
    });
  }
  if (coreImg.length < 2 * 512) {
    throw new BootmediaError("BM3208", `${where.core} is too small to be a GRUB core.img (${coreImg.length} bytes).`, {
      where: where.core,
    });
  }
  const max = maxCoreImgBytes(partitionLba);
  if (coreImg.length > max) {
    throw new BootmediaError(
      "BM3209",
      `${where.core} is ${coreImg.length} bytes; the gap before the partition holds ${max}.`,
      { where: where.core },
    );
  }
}

/**
 * Returns the MBR boot code (boot.img patched, with `mbr`'s BPB and partition area kept) and
 * core.img with its first-sector blocklist pointing at the sectors after it. Like
 * `grub-bios-setup --no-rs-codes`: no Reed-Solomon redundancy is appended.
 */
export function embedGrubBios(
  mbr: Buffer,
  bootImg: Buffer,
  coreImg: Buffer,
  coreLba = 1,
): { mbr: Buffer; core: Buffer } {
  const boot = Buffer.from(bootImg);
  const old = decodeRecord(GRUB_BOOT_IMG, mbr, 0);
  encodeRecord(
    GRUB_BOOT_IMG,
    {
      Bpb: old.Bpb,
      KernelSector: coreLba,
      BootDrive: 0xff,
      // A USB stick boots as a hard disk (0x80): take the drive fix-up, as setup.c does for disks.
      DriveCheck: NOP_NOP,
      PartitionArea: old.PartitionArea,
    },
    boot,
    0,
  );
  const sectors = Math.ceil(coreImg.length / 512);
  const core = Buffer.alloc(sectors * 512);
  core.set(coreImg, 0);
  const first = 512 - BLOCKLIST_BYTES;
  encodeRecord(GRUB_BLOCKLIST, { Start: coreLba + 1, Len: sectors - 1, Segment: CORE_LOAD_SEGMENT }, core, first);
  // The entry below is the list's terminator (len 0), as setup.c clears it.
  encodeRecord(GRUB_BLOCKLIST, { Start: 0, Len: 0, Segment: 0 }, core, first - BLOCKLIST_BYTES);
  return { mbr: boot, core };
}

/** True when a boot sector carries GRUB's boot.img code (its message strings). */
export function isGrubBootCode(sector: Buffer): boolean {
  return sector.includes(Buffer.from("GRUB \0Geom\0Hard Disk\0Read\0 Error", "latin1"));
}
