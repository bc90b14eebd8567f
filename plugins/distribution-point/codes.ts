/** Codes of the distribution-point plugin: BM21xx. */
import { defineCodes } from "../../base/errors.ts";

export const DP_CODES = defineCodes("distribution-point", {
  BM2101: {
    title: "distribution point unreachable",
    hint: "Every distribution point listed failed (the message lists what was tried); check the URLs, that the servers run, and the network path. Add another distribution point to `contentLibrary` as a fallback.",
  },
  BM2102: {
    title: "no read access to the content library",
    hint: "The distribution point refused the request (401/403): the account needs Read access to the content library. Check `contentLibrary.auth` (bearer token or basic user/password, given by reference).",
  },
  BM2103: {
    title: "TLS failure",
    hint: "The server's certificate could not be verified: pass the CA that signed it with --ca-file (spec: contentLibrary.caFile), or fix the server's certificate chain and host name.",
  },
  BM2104: {
    title: "unexpected HTTP response",
    hint: "The distribution point answered in a way a static file server should not (wrong status or byte range); check the server or proxy configuration (README of plugins/distribution-point has an nginx example).",
  },
  BM2105: {
    title: "content library location invalid",
    hint: "Give one folder, `embedded`, one http(s) URL, or a list of http(s) URLs (tried in order); credentials go in `contentLibrary.auth`, never in the URL.",
  },
  BM2106: {
    title: "TLS file unreadable",
    hint: "Check the path of the CA file or client certificate/key (relative to the spec file) and that it holds PEM data.",
  },
  BM2107: {
    title: "cannot serve the content library",
    hint: "Check the folder exists and holds `packages/`, and that the port is free (or pass --port 0 for any free port).",
  },
});
