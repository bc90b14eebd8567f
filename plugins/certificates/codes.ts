/** Codes of the certificates plugin: dates and PFX import. */
import { defineCodes } from "../../base/errors.ts";

export const CERTIFICATE_CODES = defineCodes("certificates", {
  BM3404: {
    title: "certificate dates invalid",
    hint: "Give start and expire as YYYY-MM-DD (or an ISO 8601 date-time) with start before expire.",
  },
  BM3405: {
    title: "certificate expired",
    hint: "The certificate is no longer valid at build time (SOURCE_DATE_EPOCH, else now): choose a later expiry or import a current certificate.",
  },
  BM3406: {
    title: "certificate expires soon",
    hint: "The certificate expires within 30 days of the build: media in the field will stop working; choose a later expiry.",
  },
  BM3407: {
    title: "certificate not yet valid",
    hint: "The certificate's validity starts after the build date: check its start date, or the build clock (SOURCE_DATE_EPOCH).",
  },
  BM3408: {
    title: "PFX unreadable or wrong password",
    hint: "Check the .pfx password reference and that the file is a PKCS#12 export (openssl pkcs12 -info -in FILE shows it).",
  },
  BM3409: {
    title: "PFX holds no private key",
    hint: "Export the certificate together with its private key (openssl pkcs12 -export -inkey KEY -in CERT, or 'Yes, export the private key' in the certificate manager).",
  },
  BM3410: {
    title: "private key does not match certificate",
    hint: "The .pfx pairs a key with another certificate: export the client certificate with its own key.",
  },
  BM3411: {
    title: "certificate lacks client authentication",
    hint: "The media certificate must carry the Client Authentication extended key usage (1.3.6.1.5.5.7.3.2): issue it from a client-authentication template.",
  },
  BM3412: {
    title: "certificate chain incomplete",
    hint: "Export the .pfx with its chain (openssl pkcs12 -export -chain / -certfile CA.pem, or 'Include all certificates in the certification path').",
  },
  BM3413: {
    title: "PFX algorithm not supported",
    hint: "Re-export the .pfx with OpenSSL 3 defaults (PBES2, AES-256-CBC, HMAC-SHA256) or -legacy (3DES/RC2-40, SHA-1 MAC).",
  },
});
