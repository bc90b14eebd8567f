/** Codes of `bootmedia library`: importing into and checking a content library folder. */
import { defineCodes } from "../../base/errors.ts";

defineCodes("library", {
  BM2301: {
    title: "unknown boot-image architecture",
    hint: "Give --arch x86 (a 32-bit kernel) or --arch x64 (a 64-bit kernel).",
  },
  BM2302: {
    title: "file or folder not found",
    hint: "Check the path given on the command line; it is read relative to the current folder.",
  },
  BM2303: {
    title: "package id already in the library",
    hint: "Pick another --id, or leave --id out and bootmedia picks a free one (`bootmedia library ls <library>` lists the ids).",
  },
  BM2304: {
    title: "library file does not match its manifest",
    hint: "A package file changed, vanished or was cut short after it was added: add the package again with `bootmedia library add-boot-image` or `library add`.",
  },
  BM2305: {
    title: "invalid package id",
    hint: "A package id is letters and digits, with _ . - inside (e.g. BM100064).",
  },
  BM2306: {
    title: "unknown package type for a folder",
    hint: "`library add` takes --type prestart or --type task-sequence; import kernels with `library add-boot-image`, disk images with `library add-os-image`.",
  },
  BM2307: {
    title: "OS image does not decompress",
    hint: "The file starts like a zstd, xz or gzip stream but its bytes are damaged or cut short: check it with `zstd -t`, `xz -t` or `gzip -t` and copy or build it again.",
  },
  BM2308: {
    title: "OS image root partition not found",
    hint: "bootmedia looks for a Linux root partition (GPT root type of the arch), else the largest Linux file system: name the partition write-files mounts with --root-partition N (its number in `sfdisk -l`).",
  },
  BM2309: {
    title: "OS image not whole sectors",
    hint: "A disk image is a whole number of 512-byte sectors: the file is cut short or is not a disk image; use the image as it was built.",
  },
  BM2310: {
    title: "OS image architecture differs from its root partition",
    hint: "The root partition's GPT type names the other architecture: give the --arch the image was built for.",
  },
  BM2311: {
    title: "OS image changed while it was read",
    hint: "Another program wrote to the image while bootmedia copied it: wait until it is done and add the image again.",
  },
  BM2312: {
    title: "invalid os-image option",
    hint: "--firmware takes bios, uefi or both (comma-separated); --secure-boot needs uefi among them; --root-partition is a partition number; --memory is MiB (128 to 65536).",
  },
  BM2313: {
    title: "decompressor not installed",
    hint: "Install what `bootmedia doctor --install --for media` lists (zstd, xz-utils), then add the image again.",
  },
  BM2314: {
    title: "OS image firmware unknown",
    hint: "The image has no EFI System Partition, no BIOS-boot partition and no MBR boot code: say what it boots with --firmware bios,uefi.",
  },
});
