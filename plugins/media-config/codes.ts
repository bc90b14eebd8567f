/** Codes of the media-config plugin: management points and the media password rule. */
import { defineCodes } from "../../base/errors.ts";

export const MEDIA_CONFIG_CODES = defineCodes("media-config", {
  BM3009: {
    title: "management point invalid",
    hint: "Use http(s)://host[:port][/path] without credentials; site-based media has exactly one MP, dynamic media distinct priorities.",
  },
  BM3010: {
    title: "no media password",
    hint: "Set security.password ({ env: NAME }): media without a password start a deployment for anyone who finds them.",
  },
});
