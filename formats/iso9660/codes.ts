/** Codes of the ISO 9660 writer and reader: BM31xx (validation), BM41xx (write, read). */
import { defineCodes } from "../../base/errors.ts";

export const ISO_CODES = defineCodes("iso9660", {
  BM3101: {
    title: "invalid ISO volume id",
    hint: "Use at most 32 characters from A-Z, 0-9 and _ (ECMA-119 d-characters) for the volume id.",
  },
  BM3102: {
    title: "ISO name collision",
    hint: "Two names map to the same Joliet name (Joliet keeps 64 UCS-2 characters and replaces * / : ; ? \\); rename one of them.",
  },
  BM3103: {
    title: "duplicate or conflicting media path",
    hint: "A path appears twice, or is both a file and a folder; each media path must be unique.",
  },
  BM3104: {
    title: "invalid media path",
    hint: 'Media paths are relative, use "/" separators, and hold no empty, "." or ".." parts.',
  },
  BM3105: {
    title: "boot image not in tree",
    hint: "The boot image must be a file entry of the tree given by its media path (e.g. boot/grub/i386-pc/eltorito.img).",
  },
  BM3106: {
    title: "invalid ISO option",
    hint: "Check the ISO writer options: sourceDateEpoch is a non-negative integer, the hybrid system area (MBR boot code) is at most 32 KiB, and hybrid needs a boot image.",
  },
  BM3107: {
    title: "name too long",
    hint: "Rock Ridge names are at most 255 bytes of UTF-8; shorten the file or folder name.",
  },
  BM3108: {
    title: "invalid El Torito boot entry",
    hint: "Check the boot entries: floppy emulation needs an image of exactly 1.2, 1.44 or 2.88 MB, hard-disk emulation an image that starts with an MBR, a load size is 0-65535 sectors, an appended partition is numbered 2-4 and given once, and one catalog sector holds at most 62 entries and section headers.",
  },
  BM4101: {
    title: "ISO source changed while writing",
    hint: "A source file changed size or vanished while the ISO was written; make sure nothing writes to the content during the build.",
  },
  BM4102: {
    title: "ISO source unreadable",
    hint: "Check that the source file exists and is readable by the user running the build.",
  },
  BM4103: { title: "ISO output write failed", hint: "Check free space and permissions at the output path." },
  BM4104: {
    title: "not an ISO 9660 image",
    hint: "The file has no ISO 9660 primary volume descriptor at sector 16; check the path.",
  },
  BM4105: {
    title: "file not found in ISO",
    hint: "Check the media path; `bootmedia inspect` lists the files of the image.",
  },
  BM4106: {
    title: "ISO image damaged",
    hint: "The image is truncated or its records point outside it or into a loop: copy or build the image again (compare its size and checksum with the original).",
  },
  BM4108: {
    title: "boot setup of the source ISO not replayable",
    hint: "bootmedia --from-iso takes boot images that are files of the extracted tree or appended partitions of the source ISO; extract the source with all its files (xorriso -osirrox on -indev SRC.iso -extract / DIR) or give the boot entries with --boot.",
  },
  BM4107: {
    title: "ISO image beyond inspect's limits",
    hint: "bootmedia inspect reads up to 1,000,000 entries, folders of up to 64 MiB and trees 256 levels deep; read larger images with xorriso -indev IMAGE -find.",
  },
});
