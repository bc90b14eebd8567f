/** UEFI PE/COFF images: headers, sections, Authenticode signers, SBAT. */
export { readPe, looksLikePe, signedDataOf, PE_LIMITS, type PeImage, type PeSection, type PeCertificate } from "./read.ts";
export { readAuthenticode, formatName, certificateSubject, type AuthenticodeSigner } from "./authenticode.ts";
export { readVendorCertificate } from "./vendor-cert.ts";
export { parseSbat, parseSbatLevel, readSbatLevelSection, revokedBy, type SbatEntry, type SbatLevel } from "./sbat.ts";
export { PE_CODES } from "./codes.ts";
