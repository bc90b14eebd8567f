/** Codes of the media manifest and `inspect --check` (BM35xx). */
import { defineCodes } from "../../base/errors.ts";

export const MEDIA_MANIFEST_CODES = defineCodes("media-manifest", {
  BM3501: {
    title: "media file differs from its manifest",
    hint: "A file on the media no longer hashes to what bootmedia/manifest.json recorded at build time: the media was altered or is failing; rebuild it or write it again.",
  },
  BM3502: {
    title: "media carries no manifest",
    hint: "bootmedia/manifest.json is missing or unreadable: the media predates it or was altered; rebuild the media to get file checks.",
  },
});
