/** Codes raised below core: command-line usage (BM1009) and generic write failures (BM4001, BM4002). */
import { defineCodes } from "./errors.ts";

export const BASE_CODES = defineCodes("base", {
  BM1009: { title: "command-line usage error", hint: "Run `bootmedia --help` for the commands and their options." },
  BM4001: { title: "write failed", hint: "Check free space and permissions at the output path." },
  BM4002: { title: "source changed while writing", hint: "A source file changed size or vanished during the build; make sure nothing writes to the content while building." },
});
