/**
 * PE/COFF records of UEFI images, named as in Microsoft's "PE Format" specification
 * (learn.microsoft.com/windows/win32/debug/pe-format, "PE spec" below) and the UEFI
 * specification §2.1.1 (UEFI images are PE32+ or PE32 with subsystem 10..13).
 * Offsets are from each record's start.
 */
import { bytes, defineRecord, u16le, u32le } from "../record.ts";

/** MS-DOS stub header: only the magic and the offset of the PE signature matter (PE spec "MS-DOS Stub"). */
export const DOS_HEADER = defineRecord(64, {
  e_magic: u16le(0),
  e_lfanew: u32le(0x3c),
});
export const DOS_MAGIC = 0x5a4d; // "MZ"

/** "PE\0\0" then the COFF file header (PE spec "Signature (Image Only)", "COFF File Header"). */
export const PE_HEADER = defineRecord(24, {
  Signature: u32le(0),
  Machine: u16le(4),
  NumberOfSections: u16le(6),
  TimeDateStamp: u32le(8),
  PointerToSymbolTable: u32le(12),
  NumberOfSymbols: u32le(16),
  SizeOfOptionalHeader: u16le(20),
  Characteristics: u16le(22),
});
export const PE_SIGNATURE = 0x00004550; // "PE\0\0"

/** Optional header fields shared by PE32 and PE32+ up to the subsystem (PE spec "Optional Header Standard Fields", "Windows-Specific Fields"). */
export const OPTIONAL_HEADER_START = defineRecord(70, {
  Magic: u16le(0),
  AddressOfEntryPoint: u32le(16),
  SizeOfImage: u32le(56),
  SizeOfHeaders: u32le(60),
  CheckSum: u32le(64),
  Subsystem: u16le(68),
});
export const PE32_MAGIC = 0x10b;
export const PE32_PLUS_MAGIC = 0x20b;

/** Where NumberOfRvaAndSizes and the data directories sit, by optional-header magic (PE spec "Optional Header Data Directories"). */
export const DATA_DIRECTORY_AT = {
  [PE32_MAGIC]: { count: 92, first: 96 },
  [PE32_PLUS_MAGIC]: { count: 108, first: 112 },
} as const;

/** NumberOfRvaAndSizes, at DATA_DIRECTORY_AT[magic].count (PE spec "Optional Header Windows-Specific Fields"). */
export const RVA_COUNT = defineRecord(4, {
  NumberOfRvaAndSizes: u32le(0),
});

/** One data directory entry (PE spec "Optional Header Data Directories"). */
export const DATA_DIRECTORY = defineRecord(8, {
  VirtualAddress: u32le(0),
  Size: u32le(4),
});
/** Index of the Certificate Table; its VirtualAddress is a file offset, not an RVA (PE spec "The Attribute Certificate Table"). */
export const SECURITY_DIRECTORY = 4;

/** Section table entry (PE spec "Section Table (Section Headers)"). */
export const SECTION_HEADER = defineRecord(40, {
  Name: bytes(0, 8),
  VirtualSize: u32le(8),
  VirtualAddress: u32le(12),
  SizeOfRawData: u32le(16),
  PointerToRawData: u32le(20),
  Characteristics: u32le(36),
});

/** WIN_CERTIFICATE header; entries are 8-byte aligned (PE spec "The Attribute Certificate Table"). */
export const WIN_CERTIFICATE = defineRecord(8, {
  dwLength: u32le(0),
  wRevision: u16le(4),
  wCertificateType: u16le(6),
});
export const WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;

/** Machine types UEFI firmware runs (PE spec "Machine Types"; UEFI spec §2.1.1). */
export const MACHINES = {
  0x014c: "ia32",
  0x8664: "x64",
  0xaa64: "aa64",
  0x01c2: "arm",
  0x5064: "riscv32",
  0x5264: "riscv64",
} as const satisfies Record<number, string>;

/** EFI subsystems (PE spec "Windows Subsystem"). */
export const SUBSYSTEMS = {
  10: "efi-application",
  11: "efi-boot-service-driver",
  12: "efi-runtime-driver",
  13: "efi-rom",
} as const satisfies Record<number, string>;

/** shim's `.sbatlevel` section: a version, then offsets (from byte 4) of two NUL-ended SBAT level texts (shim's include/sbat_var_defs.h, sbat_var.S). */
export const SBAT_LEVEL_HEADER = defineRecord(12, {
  version: u32le(0),
  previousAt: u32le(4),
  latestAt: u32le(8),
});

/**
 * shim's `.vendor_cert` section starts with this table (shim's cert.S / shim.h `cert_table`):
 * the vendor's authorized certificate (DER, or an EFI_SIGNATURE_LIST when shim was built with a
 * vendor db) and its deauthorized list (dbx), each at an offset from the section's start.
 */
export const VENDOR_CERT_TABLE = defineRecord(16, {
  authorizedSize: u32le(0),
  deauthorizedSize: u32le(4),
  authorizedAt: u32le(8),
  deauthorizedAt: u32le(12),
});
