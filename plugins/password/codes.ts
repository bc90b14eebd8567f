/** Codes of the password plugin. */
import { defineCodes } from "../../base/errors.ts";

export const PASSWORD_CODES = defineCodes("password", {
  BM3401: {
    title: "media password too weak",
    hint: "Use at least 12 characters from at least 3 of: lower case, upper case, digits, symbols (a passphrase of several words with a digit and a capital passes).",
  },
});
