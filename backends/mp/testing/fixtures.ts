/**
 * Test material for the management point: a media certificate made by the openssl CLI (an
 * independent implementation, and the tool the boot agent has), a site with a three-step task
 * sequence, and a node client's credentials.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate, createHash, createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentCredentials, AgentMedia } from "../client.ts";
import type { SiteInput } from "../site.ts";

export const MAC = "52:54:00:12:34:56";

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface MediaCert {
  certPath: string;
  keyPath: string;
  der: Buffer;
  sha256: string;
  notBefore: number;
  creds: AgentCredentials;
}

/** A self-signed ECDSA P-256 media certificate with the clientAuth EKU, as a build writes one. */
export function makeMediaCert(dir: string, name = "media"): MediaCert {
  execFileSync(
    "openssl",
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
      `/CN=bootmedia media ${name}`,
      "-addext",
      "extendedKeyUsage=clientAuth",
    ],
    { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
  );
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  const x = new X509Certificate(readFileSync(certPath));
  return {
    certPath,
    keyPath,
    der: x.raw,
    sha256: createHash("sha256").update(x.raw).digest("hex"),
    notBefore: Math.floor(Date.parse(x.validFrom) / 1000),
    creds: { certDer: x.raw, key: createPrivateKey(readFileSync(keyPath)) },
  };
}

const THREE_STEPS = [
  { name: "Say hello", type: "run-command", command: 'echo "hello %OSDComputerName%"' },
  { name: "Remember", type: "set-variable", variable: "Greeting", value: "done" },
  { name: "May fail", type: "run-command", command: "exit 3", continueOnError: true },
];

/** A site whose unknown computers get DEP-1 (task sequence TS-1, three inline steps). */
export function makeSite(certDer: Buffer, extra: Partial<SiteInput> = {}): SiteInput {
  return {
    siteCode: "BM1",
    managementPoints: ["MP1"],
    taskSequences: [{ id: "TS-1", name: "Three steps", steps: THREE_STEPS }],
    deployments: [{ id: "DEP-1", taskSequence: "TS-1", target: "unknown", variables: { OSDTimeZone: "UTC" } }],
    certificates: [{ der: certDer.toString("base64") }],
    ...extra,
  };
}

export function makeMedia(url: string): AgentMedia {
  return { id: "M1", taskSequence: "TS-1", mode: "site-based", mps: [url], unknownComputers: true, uda: "auto" };
}
