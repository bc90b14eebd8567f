/**
 * Independent readers of EFI binaries for tests: sbverify (sbsigntool), objdump (binutils), sbsign
 * to make signed samples, the Debian CA taken from shim by objcopy and openssl (not our PE reader),
 * and a throwaway certificate that signed nothing.
 */
import { execa } from "execa";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const DEBIAN_SIGNED = {
  shim: "/usr/lib/shim/shimx64.efi.signed",
  grub: "/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed",
  /** Unsigned fallback loader from shim-unsigned: a small real EFI application. */
  unsigned: "/usr/lib/shim/fbx64.efi",
} as const;

/**
 * The snakeoil test key whose certificate is enrolled in Debian's OVMF_VARS_4M.snakeoil.fd
 * (package ovmf; its README.Debian gives the key's password, "snakeoil").
 */
export const SNAKEOIL = {
  key: "/usr/share/ovmf/PkKek-1-snakeoil.key",
  cert: "/usr/share/ovmf/PkKek-1-snakeoil.pem",
  password: "snakeoil",
} as const;

/** The snakeoil key without its password, written to `out` (sbsign reads no password but from a terminal). */
export async function plainSnakeoilKey(out: string): Promise<string> {
  await execa("openssl", ["pkey", "-in", SNAKEOIL.key, "-passin", `pass:${SNAKEOIL.password}`, "-out", out]);
  return out;
}

/** Signing certificate subjects as `sbverify --list` prints them, per signature in order. */
export async function sbverifySubjects(file: string): Promise<string[]> {
  const { stdout } = await execa("sbverify", ["--list", file], { reject: false });
  const out: string[] = [];
  let first = true;
  for (const line of stdout.split("\n")) {
    if (/^signature \d+/.test(line)) first = true;
    const m = /^ - subject: (.*)$/.exec(line);
    if (m && first) {
      out.push(m[1]);
      first = false;
    }
  }
  return out;
}

/** Section names as `objdump -h` prints them. */
export async function objdumpSections(file: string): Promise<string[]> {
  const { stdout } = await execa("objdump", ["-h", file]);
  return [...stdout.matchAll(/^\s+\d+\s+(\S+)\s+[0-9a-f]{8}/gm)].map((m) => m[1]);
}

/** Text of one section as objcopy extracts it. */
export async function objcopySection(file: string, section: string, out: string): Promise<Buffer> {
  await execa("objcopy", ["-O", "binary", `--only-section=${section}`, file, out]);
  return readFile(out);
}

/** Signs `file` into `out` with sbsign (`key` unencrypted PEM). */
export async function sbsign(file: string, out: string, key: string, cert: string = SNAKEOIL.cert): Promise<void> {
  await execa("sbsign", ["--key", key, "--cert", cert, "--output", out, file], { stdin: "ignore" });
}

/** `sbverify --cert CERT FILE`: exit code and what it printed. */
export async function sbverifyWith(cert: string, file: string): Promise<{ exitCode: number; output: string }> {
  const r = await execa("sbverify", ["--cert", cert, file], { reject: false });
  return { exitCode: r.exitCode ?? -1, output: [r.stdout, r.stderr].filter(Boolean).join("\n").trim() };
}

/**
 * Debian's Secure Boot CA (PEM) into `dir`: shim's `.vendor_cert` section (objcopy) is shim's
 * cert_table — four little-endian u32 (authorized size, deauthorized size, authorized offset,
 * deauthorized offset) — then the DER certificate, converted by openssl.
 */
export async function debianCa(dir: string, shim = "/usr/lib/shim/shimx64.efi"): Promise<string> {
  const section = join(dir, "vendor_cert.bin");
  await execa("objcopy", ["-O", "binary", "--only-section=.vendor_cert", shim, section]);
  const table = await readFile(section);
  const size = table.readUInt32LE(0);
  const offset = table.readUInt32LE(8);
  const der = join(dir, "debian-ca.der");
  await writeFile(der, table.subarray(offset, offset + size));
  const pem = join(dir, "debian-ca.pem");
  await execa("openssl", ["x509", "-inform", "DER", "-in", der, "-out", pem]);
  return pem;
}

/** A self-signed RSA certificate (and its key) that signed nothing: verification with it must fail. */
export async function otherCertificate(dir: string, name = "other"): Promise<{ key: string; cert: string }> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  await execa("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "1",
    "-subj",
    `/CN=bootmedia test ${name}`,
  ]);
  return { key, cert };
}
