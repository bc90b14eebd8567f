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
    hint: "`library add` takes --type prestart or --type task-sequence; import kernels with `library add-boot-image`.",
  },
});
