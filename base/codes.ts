/** Codes raised below core: command-line usage (BM1009), input folders (BM2009, BM2011), generic write failures (BM4001, BM4002). */
import { defineCodes } from "./errors.ts";

defineCodes("base", {
  BM1009: { title: "command-line usage error", hint: "Run `bootmedia --help` for the commands and their options." },
  BM2009: {
    title: "link or special file in an input folder",
    hint: "Input folders may hold only folders, regular files and links to regular files inside the same folder: replace the link by the file it points to, or move the file into the folder.",
  },
  BM2011: {
    title: "file in an input folder unreadable",
    hint: "bootmedia reads every file of an input folder (prestart files, `bootmedia image` folders): make it readable by the user running bootmedia, or move it out of the folder.",
  },
  BM4001: { title: "write failed", hint: "Check free space and permissions at the output path." },
  BM4002: {
    title: "source changed while writing",
    hint: "A source file changed size or vanished during the build; make sure nothing writes to the content while building.",
  },
});
