/** Codes of the FAT writer and reader: BM32xx (validation), BM42xx (write, read). */
import { defineCodes } from "../../base/errors.ts";

export const FAT_CODES = defineCodes("fat", {
  BM3201: {
    title: "file too large for FAT32",
    hint: "FAT32 cannot store a file of 4 GiB or more: use ISO media (DVD capacity) or split the file (e.g. split WIM files with DISM /Split-Image).",
  },
  BM3202: {
    title: "content larger than the FAT image",
    hint: "Give a larger size, or leave the size out so the image is sized from its content.",
  },
  BM3203: {
    title: "volume label invalid",
    hint: "A FAT label has at most 11 characters: A-Z, 0-9, space and ! # $ % & ' ( ) - @ ^ _ ` { } ~.",
  },
  BM3204: {
    title: "name not valid on FAT",
    hint: 'Rename the file: at most 255 characters, none of " * / : < > ? \\ | or control characters, and no trailing dot or space.',
  },
  BM3205: { title: "names collide on FAT", hint: "FAT compares names without case: rename one of the two entries." },
  BM3206: {
    title: "image size invalid for the FAT type",
    hint: "Choose a size the FAT type can hold (FAT12 up to ~127 MiB, FAT16 4 MiB to ~2 GiB, FAT32 from ~33 MiB), a multiple of 512 bytes, or let bootmedia choose the type.",
  },
  BM3207: {
    title: "tree entries conflict",
    hint: "A path is given both as a file and as a folder, or twice: fix the entry list.",
  },
  BM3210: {
    title: "too many entries in one FAT folder",
    hint: "A FAT folder holds at most 65,536 32-byte entries, and a long name takes one more entry per 13 characters: split the folder into subfolders or shorten the names.",
  },
  BM4201: {
    title: "source changed while writing",
    hint: "A file's size differs from the size planned: make sure nothing modifies the content while building, then build again.",
  },
  BM4202: { title: "image write failed", hint: "Check free space and permissions where the image is written." },
  BM4203: { title: "source file unreadable", hint: "Check that the file exists and is readable." },
  BM4204: {
    title: "not a FAT file system",
    hint: "The image or partition holds no valid FAT boot sector: check the path and offset.",
  },
  BM4206: {
    title: "file not found in FAT image",
    hint: "Check the path; `bootmedia inspect` lists the files the image holds.",
  },
  BM4208: {
    title: "FAT image damaged",
    hint: "The image is truncated or its boot sector, FAT or folders point outside it or into a loop: copy or build the image again, or check it with fsck.fat -n.",
  },
  BM4209: {
    title: "FAT image beyond inspect's limits",
    hint: "bootmedia inspect reads up to 1,000,000 entries, FATs of up to 128 MiB and trees 128 levels deep; read larger images with mtools (mdir -/ -i IMAGE).",
  },
});
