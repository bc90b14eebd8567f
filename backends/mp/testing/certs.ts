/**
 * Certificates made with the openssl CLI (an independent implementation, and the tool the boot
 * agent has): a media certificate as plugins/certificates makes it (ECDSA P-256, clientAuth EKU).
 */
import { execFileSync } from "node:child_process";
import { X509Certificate, createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CertFiles {
  dir: string;
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
  der: Buffer;
  sha256: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

function readCert(dir: string, name: string): CertFiles {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  const certPem = readFileSync(certPath, "utf8");
  const x = new X509Certificate(certPem);
  return {
    dir,
    certPath,
    keyPath,
    certPem,
    keyPem: readFileSync(keyPath, "utf8"),
    der: x.raw,
    sha256: createHash("sha256").update(x.raw).digest("hex"),
    issuer: x.issuer.replace(/\n/g, ", "),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
  };
}

/** A self-signed media certificate as plugins/certificates makes it, by `openssl req -x509`. */
export function makeSelfSignedCert(dir: string, name: string): CertFiles {
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-sha256",
      "-days",
      "365",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-subj",
      `/CN=bootmedia media ${name}/O=bootmedia`,
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "keyUsage=critical,digitalSignature",
      "-addext",
      "extendedKeyUsage=clientAuth",
    ],
    dir,
  );
  return readCert(dir, name);
}

/** A CA and a leaf it issues: `server` (serverAuth, SAN 127.0.0.1 and 10.0.2.100-101) or `client` (clientAuth). */
export function makePki(
  dir: string,
  caName: string,
): { ca: CertFiles; issue: (name: string, kind: "server" | "client") => CertFiles } {
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-sha256",
      "-days",
      "365",
      "-keyout",
      `${caName}.key`,
      "-out",
      `${caName}.crt`,
      "-subj",
      `/CN=${caName}/O=bootmedia test`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  const ca = readCert(dir, caName);
  const issue = (name: string, kind: "server" | "client") => {
    const ext =
      kind === "server"
        ? "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:10.0.2.100,IP:10.0.2.101\n"
        : "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n";
    writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\n${ext}`);
    openssl(
      [
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        `/CN=${name}`,
      ],
      dir,
    );
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        `${caName}.crt`,
        "-CAkey",
        `${caName}.key`,
        "-CAcreateserial",
        "-days",
        "30",
        "-sha256",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.crt`,
      ],
      dir,
    );
    return readCert(dir, name);
  };
  return { ca, issue };
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
