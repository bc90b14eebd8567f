/**
 * Independent checks for signed boot images: sbverify (sbsigntool) against a certificate, the
 * Debian CA taken from shim's `.vendor_cert` by objcopy and openssl (not our PE reader), and
 * a throwaway certificate that signed nothing.
 */
import { execa } from "execa";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export { SNAKEOIL, sbverifySubjects } from "../../../../formats/pe/testing/oracles.ts";

/** `sbverify --cert CERT FILE`: exit code and what it printed. */
export async function sbverifyWith(cert: string, file: string): Promise<{ exitCode: number; output: string }> {
  const r = await execa("sbverify", ["--cert", cert, file], { reject: false });
  return { exitCode: r.exitCode ?? -1, output: `${r.stdout}${r.stderr}`.trim() };
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
  await execa("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=bootmedia test ${name}`]);
  return { key, cert };
}
