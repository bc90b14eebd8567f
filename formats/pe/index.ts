/** UEFI PE/COFF images: headers, sections, Authenticode signers, SBAT. */
export { readPe, looksLikePe, signedDataOf } from "./read.ts";
export { readAuthenticode, certificateSubject } from "./authenticode.ts";
export { readVendorCertificate } from "./vendor-cert.ts";
export { parseSbat, readSbatLevelSection, revokedBy, type SbatEntry, type SbatLevel } from "./sbat.ts";
import "./codes.ts"; // registers the PE error codes (not re-exported: callers match on the code strings)
