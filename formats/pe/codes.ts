/** Codes of the PE/COFF (EFI binary) reader: BM45xx (read). */
import { defineCodes } from "../../base/errors.ts";

export const PE_CODES = defineCodes("pe", {
  BM4501: {
    title: "not an EFI binary",
    hint: "The file has no MZ/PE header or is not a UEFI image (PE32/PE32+, EFI subsystem): check the path; EFI binaries sit under EFI/ on the media.",
  },
  BM4502: {
    title: "EFI binary damaged",
    hint: "The file is truncated or its headers point outside it: copy or build the media again, and compare with `objdump -h FILE` or `sbverify --list FILE`.",
  },
  BM4503: {
    title: "EFI binary beyond the reader's limits",
    hint: "bootmedia reads EFI binaries of up to 256 MiB with up to 96 sections and 16 signatures; check the file with `sbverify --list FILE`.",
  },
});
