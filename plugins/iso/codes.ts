/** Codes of the iso plugin (the ISO 9660 writer's own are in formats/iso9660/codes.ts). */
import { defineCodes } from "../../base/errors.ts";

export const ISO_PLUGIN_CODES = defineCodes("iso", {
  BM3110: {
    title: "volume exceeds capacity",
    hint: "Choose a larger capacity (dvd, dvd-dl, bd25) or leave content out; boot files must fit on volume 1.",
  },
});
