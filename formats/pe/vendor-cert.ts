/**
 * The certificate a shim trusts besides the firmware's db and the MOK list: its vendor
 * certificate, built into the `.vendor_cert` section (Debian's: "Debian Secure Boot CA").
 * Loaders and kernels signed by a key that certificate issued start under that shim.
 */
import { decodeRecord, RecordBoundsError } from "../record.ts";
import { VENDOR_CERT_TABLE } from "./structures.ts";

/** The DER vendor certificate of a `.vendor_cert` section; null when there is none or it is not one DER certificate. */
export function readVendorCertificate(section: Buffer): Buffer | null {
  let t;
  try {
    t = decodeRecord(VENDOR_CERT_TABLE, section, 0);
  } catch (e) {
    if (e instanceof RecordBoundsError) return null;
    throw e;
  }
  if (t.authorizedSize === 0 || t.authorizedAt + t.authorizedSize > section.length) return null;
  const der = section.subarray(t.authorizedAt, t.authorizedAt + t.authorizedSize);
  // A DER certificate is one SEQUENCE (0x30); a vendor db (EFI_SIGNATURE_LIST) starts with a GUID.
  return der[0] === 0x30 ? der : null;
}
