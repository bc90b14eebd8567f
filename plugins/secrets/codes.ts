/** Codes of the secrets plugin. */
import { defineCodes } from "../../base/errors.ts";

export const SECRETS_CODES = defineCodes("secrets", {
  BM3402: {
    title: "secret needs a media password",
    hint: "Set security.password ({ env: NAME } or { file: path }): secrets on the media are encrypted with a key derived from it.",
  },
  BM3403: {
    title: "read-only variable",
    hint: "Names starting with _ are read-only task-sequence variables set by the deployment engine; choose a name without the leading _.",
  },
  BM3414: {
    title: "secret part cannot be opened",
    hint: "The password is wrong or bootmedia/secrets.enc was altered: rebuild the media, or type the media password again.",
  },
});
