/** Codes of the disk-image writer and reader (partition tables, GRUB boot code). */
import { defineCodes } from "../../base/errors.ts";

export const DISK_CODES = defineCodes("disk", {
  BM3208: {
    title: "GRUB boot image invalid",
    hint: "Pass GRUB's i386-pc boot.img (512 bytes) and a core.img built with `grub-mkimage -O i386-pc`.",
  },
  BM3209: {
    title: "GRUB core image too large",
    hint: "core.img must fit in the 1 MiB gap before the partition: embed fewer modules and load the rest from /boot/grub/i386-pc.",
  },
  BM4205: { title: "no partition table", hint: "The disk image has no MBR signature (0x55AA): check the path." },
  BM4220: {
    title: "partition table damaged",
    hint: "The image's partition table contradicts itself (checksum, sizes, overlapping or misplaced partitions): check it with `sgdisk -v` or `sfdisk -V`, repair it (`sgdisk -e`, or rewrite the table) and try again.",
  },
  BM4221: {
    title: "partition table larger than the image",
    hint: "The table or a partition reaches past the end of the image file: the image is cut short, or the table describes a bigger disk. Use the whole image, or shrink the partitions to fit it.",
  },
  BM4207: {
    title: "GRUB image build failed",
    hint: "Install GRUB's image tools and modules (Debian: grub-common, grub-pc-bin, grub-efi-amd64-bin, grub-efi-ia32-bin).",
  },
});
