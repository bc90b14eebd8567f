/**
 * Test fixtures made at test time with the openssl CLI (never committed): a root CA, a
 * client certificate (RSA 2048, clientAuth) it signs, a server-only certificate, and
 * .pfx files in OpenSSL 3's default and -legacy encodings.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

export const PFX_PASSWORD = "Pfx-Pass-Word-9";

export interface PkiFixtures {
  dir: string;
  /** File paths of the generated PEMs and .pfx files. */
  files: Record<
    "caPem" | "clientPem" | "clientKey" | "otherKey" | "modern" | "legacy" | "noKey" | "noChain" | "serverOnly",
    string
  >;
}

export async function makePkiFixtures(): Promise<PkiFixtures> {
  const dir = await mkdtemp(join(tmpdir(), "bm-pki-"));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execa("openssl", args, { cwd: dir });
  await ssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-subj",
    "/CN=bootmedia Test Root CA",
    "-days",
    "3650",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  await writeFile(
    f("client.ext"),
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  await writeFile(
    f("server.ext"),
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  for (const [name, ext] of [
    ["client", "client.ext"],
    ["server", "server.ext"],
  ] as const) {
    await ssl(
      "req",
      "-new",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${name}.contoso.test`,
    );
    await ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-set_serial",
      name === "client" ? "4242" : "4343",
      "-days",
      "365",
      "-extfile",
      ext,
      "-out",
      `${name}.pem`,
    );
  }
  await ssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.key");
  const pass = ["-passout", `pass:${PFX_PASSWORD}`];
  await ssl(
    "pkcs12",
    "-export",
    "-inkey",
    "client.key",
    "-in",
    "client.pem",
    "-certfile",
    "ca.pem",
    ...pass,
    "-out",
    "modern.pfx",
  );
  await ssl(
    "pkcs12",
    "-export",
    "-legacy",
    "-inkey",
    "client.key",
    "-in",
    "client.pem",
    "-certfile",
    "ca.pem",
    ...pass,
    "-out",
    "legacy.pfx",
  );
  await ssl("pkcs12", "-export", "-nokeys", "-in", "client.pem", "-certfile", "ca.pem", ...pass, "-out", "nokey.pfx");
  await ssl("pkcs12", "-export", "-inkey", "client.key", "-in", "client.pem", ...pass, "-out", "nochain.pfx");
  await ssl(
    "pkcs12",
    "-export",
    "-inkey",
    "server.key",
    "-in",
    "server.pem",
    "-certfile",
    "ca.pem",
    ...pass,
    "-out",
    "server.pfx",
  );
  return {
    dir,
    files: {
      caPem: f("ca.pem"),
      clientPem: f("client.pem"),
      clientKey: f("client.key"),
      otherKey: f("other.key"),
      modern: f("modern.pfx"),
      legacy: f("legacy.pfx"),
      noKey: f("nokey.pfx"),
      noChain: f("nochain.pfx"),
      serverOnly: f("server.pfx"),
    },
  };
}

/** What `openssl pkcs12 -info` says protects a file (to prove the fixture is what its name says). */
export async function describePfx(file: string): Promise<string> {
  const r = await execa(
    "openssl",
    ["pkcs12", "-info", "-in", file, "-passin", `pass:${PFX_PASSWORD}`, "-noout", "-legacy"],
    { reject: false },
  );
  return r.stderr + r.stdout;
}
