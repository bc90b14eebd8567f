/**
 * Reads the headers of a UEFI PE/COFF image: machine, subsystem, sections, the security
 * directory's WIN_CERTIFICATE list, and the `.sbat` / `.sbatlevel` sections' text. Input is
 * untrusted (it comes from media): every offset is checked against the buffer through the
 * record engine, and counts are bounded by PE_LIMITS.
 */
import { BootmediaError } from "../../base/errors.ts";
import { decodeRecord, RecordBoundsError, type RecordLayout } from "../record.ts";
import {
  DATA_DIRECTORY,
  DATA_DIRECTORY_AT,
  DOS_HEADER,
  DOS_MAGIC,
  MACHINES,
  OPTIONAL_HEADER_START,
  PE32_MAGIC,
  PE32_PLUS_MAGIC,
  PE_HEADER,
  PE_SIGNATURE,
  RVA_COUNT,
  SECTION_HEADER,
  SECURITY_DIRECTORY,
  SUBSYSTEMS,
  WIN_CERT_TYPE_PKCS_SIGNED_DATA,
  WIN_CERTIFICATE,
} from "./structures.ts";

export const PE_LIMITS = {
  /** The Windows loader's own limit (PE spec "COFF File Header"). */
  sections: 96,
  certificates: 16,
  fileBytes: 256 * 1024 * 1024,
  /** `.sbat` text read; shim itself reads the section whole, real ones are under 1 KiB. */
  sbatBytes: 64 * 1024,
  /** shim's built-in vendor certificate(s) and revocations. */
  vendorCertBytes: 256 * 1024,
} as const;

interface PeSection {
  name: string;
  virtualSize: number;
  virtualAddress: number;
  rawSize: number;
  rawOffset: number;
}

interface PeCertificate {
  revision: number;
  type: number;
  /** The certificate bytes (for type 2, a DER PKCS#7 SignedData ContentInfo). */
  data: Buffer;
}

interface PeImage {
  machine: (typeof MACHINES)[keyof typeof MACHINES] | `0x${string}`;
  format: "PE32" | "PE32+";
  subsystem: (typeof SUBSYSTEMS)[keyof typeof SUBSYSTEMS] | `${number}`;
  sections: PeSection[];
  certificates: PeCertificate[];
  /** Text of the `.sbat` section up to its first NUL, or null when there is none. */
  sbat: string | null;
  /** Raw bytes of shim's `.sbatlevel` section (its built-in revocation levels), or null. */
  sbatLevel: Buffer | null;
  /** Raw bytes of shim's `.vendor_cert` section (the key it trusts besides db and MOK), or null. */
  vendorCert: Buffer | null;
}

function damaged(what: string, where?: string): BootmediaError {
  return new BootmediaError("BM4502", `EFI binary damaged: ${what}`, where === undefined ? {} : { where });
}

function read<L extends RecordLayout>(layout: L, buf: Buffer, at: number, what: string, where?: string) {
  try {
    return decodeRecord(layout, buf, at);
  } catch (e) {
    if (e instanceof RecordBoundsError)
      throw damaged(`${what} at byte ${at} passes the end of the ${buf.length}-byte file`, where);
    throw e;
  }
}

/** True when `buf` starts like a PE image (MZ, then "PE\0\0" where e_lfanew points). */
export function looksLikePe(buf: Buffer): boolean {
  if (buf.length < DOS_HEADER.size) return false;
  const dos = decodeRecord(DOS_HEADER, buf);
  if (dos.e_magic !== DOS_MAGIC) return false;
  return dos.e_lfanew + 4 <= buf.length && buf.readUInt32LE(dos.e_lfanew) === PE_SIGNATURE;
}

function sectionText(buf: Buffer, s: PeSection | undefined, max: number): Buffer | null {
  if (!s) return null;
  // The section's contents are its raw data, trimmed to the size it has in memory.
  const size = Math.min(s.rawSize, s.virtualSize || s.rawSize, max);
  if (s.rawOffset + size > buf.length) throw damaged(`section ${s.name} lies outside the file`);
  return buf.subarray(s.rawOffset, s.rawOffset + size);
}

/** Bytes in one COFF symbol record; the string table follows the symbol table (PE spec "COFF String Table"). */
const COFF_SYMBOL_BYTES = 18;
const LONG_NAME_BYTES = 256;

/** A section name; "/n" names a long name at offset n of the COFF string table, as GNU ld writes them. */
function sectionName(
  buf: Buffer,
  raw: Buffer,
  coff: { PointerToSymbolTable: number; NumberOfSymbols: number },
): string {
  const nul = raw.indexOf(0);
  const name = raw.toString("latin1", 0, nul < 0 ? 8 : nul);
  const m = /^\/(\d{1,7})$/.exec(name);
  if (!m || coff.PointerToSymbolTable === 0) return name;
  const at = coff.PointerToSymbolTable + coff.NumberOfSymbols * COFF_SYMBOL_BYTES + Number(m[1]);
  if (!(at < buf.length)) return name;
  const end = buf.indexOf(0, at);
  const stop = Math.min(end < 0 ? buf.length : end, at + LONG_NAME_BYTES);
  return buf.toString("latin1", at, stop);
}

/** Parses a whole EFI binary held in memory. `where` names it in errors. */
export function readPe(buf: Buffer, where?: string): PeImage {
  if (buf.length > PE_LIMITS.fileBytes)
    throw new BootmediaError(
      "BM4503",
      `EFI binary of ${buf.length} bytes is larger than ${PE_LIMITS.fileBytes}`,
      where === undefined ? {} : { where },
    );
  if (!looksLikePe(buf)) throw new BootmediaError("BM4501", "no MZ/PE header", where === undefined ? {} : { where });
  const peAt = decodeRecord(DOS_HEADER, buf).e_lfanew;
  const coff = read(PE_HEADER, buf, peAt, "COFF header", where);
  if (coff.NumberOfSections > PE_LIMITS.sections)
    throw new BootmediaError(
      "BM4503",
      `${coff.NumberOfSections} sections (at most ${PE_LIMITS.sections})`,
      where === undefined ? {} : { where },
    );
  const optAt = peAt + PE_HEADER.size;
  const opt = read(OPTIONAL_HEADER_START, buf, optAt, "optional header", where);
  if (opt.Magic !== PE32_MAGIC && opt.Magic !== PE32_PLUS_MAGIC)
    throw new BootmediaError(
      "BM4501",
      `optional header magic 0x${opt.Magic.toString(16)} is neither PE32 nor PE32+`,
      where === undefined ? {} : { where },
    );
  const dirs = DATA_DIRECTORY_AT[opt.Magic];
  if (coff.SizeOfOptionalHeader < dirs.first)
    throw damaged(`optional header of ${coff.SizeOfOptionalHeader} bytes is shorter than its fixed part`, where);
  const count = read(RVA_COUNT, buf, optAt + dirs.count, "data directory count", where).NumberOfRvaAndSizes;
  // Directories beyond SizeOfOptionalHeader are not there, whatever the count says.
  const dirCount = Math.min(count, Math.floor((coff.SizeOfOptionalHeader - dirs.first) / DATA_DIRECTORY.size));

  const sections: PeSection[] = [];
  const sectionsAt = optAt + coff.SizeOfOptionalHeader;
  for (let i = 0; i < coff.NumberOfSections; i++) {
    const s = read(SECTION_HEADER, buf, sectionsAt + i * SECTION_HEADER.size, `section header ${i}`, where);
    sections.push({
      name: sectionName(buf, s.Name, coff),
      virtualSize: s.VirtualSize,
      virtualAddress: s.VirtualAddress,
      rawSize: s.SizeOfRawData,
      rawOffset: s.PointerToRawData,
    });
  }

  const certificates: PeCertificate[] = [];
  if (dirCount > SECURITY_DIRECTORY) {
    const dir = read(
      DATA_DIRECTORY,
      buf,
      optAt + dirs.first + SECURITY_DIRECTORY * DATA_DIRECTORY.size,
      "security directory",
      where,
    );
    if (dir.Size > 0) {
      const end = dir.VirtualAddress + dir.Size;
      if (end > buf.length)
        throw damaged(
          `certificate table ${dir.VirtualAddress}+${dir.Size} passes the end of the ${buf.length}-byte file`,
          where,
        );
      let at = dir.VirtualAddress;
      while (at + WIN_CERTIFICATE.size <= end) {
        if (certificates.length === PE_LIMITS.certificates)
          throw new BootmediaError(
            "BM4503",
            `more than ${PE_LIMITS.certificates} signatures`,
            where === undefined ? {} : { where },
          );
        const c = read(WIN_CERTIFICATE, buf, at, "WIN_CERTIFICATE", where);
        if (c.dwLength < WIN_CERTIFICATE.size || at + c.dwLength > end)
          throw damaged(`WIN_CERTIFICATE at byte ${at} claims ${c.dwLength} bytes`, where);
        certificates.push({
          revision: c.wRevision,
          type: c.wCertificateType,
          data: buf.subarray(at + WIN_CERTIFICATE.size, at + c.dwLength),
        });
        at += (c.dwLength + 7) & ~7; // 8-byte aligned (PE spec "The Attribute Certificate Table")
      }
    }
  }

  const sbat = sectionText(
    buf,
    sections.find((s) => s.name === ".sbat"),
    PE_LIMITS.sbatBytes,
  );
  const sbatLevel = sectionText(
    buf,
    sections.find((s) => s.name === ".sbatlevel"),
    PE_LIMITS.sbatBytes,
  );
  const vendorCert = sectionText(
    buf,
    sections.find((s) => s.name === ".vendor_cert"),
    PE_LIMITS.vendorCertBytes,
  );
  const nul = sbat ? sbat.indexOf(0) : -1;
  return {
    machine: (MACHINES as Record<number, PeImage["machine"]>)[coff.Machine] ?? `0x${coff.Machine.toString(16)}`,
    format: opt.Magic === PE32_PLUS_MAGIC ? "PE32+" : "PE32",
    subsystem: (SUBSYSTEMS as Record<number, PeImage["subsystem"]>)[opt.Subsystem] ?? `${opt.Subsystem}`,
    sections,
    certificates,
    sbat: sbat ? sbat.toString("utf8", 0, nul < 0 ? sbat.length : nul) : null,
    sbatLevel,
    vendorCert,
  };
}

/** The PKCS#7 SignedData blobs of an image (WIN_CERT_TYPE_PKCS_SIGNED_DATA entries). */
export function signedDataOf(pe: PeImage): Buffer[] {
  return pe.certificates.filter((c) => c.type === WIN_CERT_TYPE_PKCS_SIGNED_DATA).map((c) => c.data);
}
