/**
 * Test material for the management point: a media certificate made by the openssl CLI (an
 * independent implementation, and the tool the boot agent has), a site with a three-step task
 * sequence, and a node client's credentials.
 */
import { createPrivateKey } from "node:crypto";
import { makeSelfSignedCert } from "./certs.ts";
import type { AgentCredentials, AgentMedia } from "../client.ts";
import type { SiteInput } from "../site.ts";

export { makeTempDir } from "./certs.ts";

export const MAC = "52:54:00:12:34:56";

export interface MediaCert {
  certPath: string;
  keyPath: string;
  der: Buffer;
  sha256: string;
  notBefore: number;
  creds: AgentCredentials;
}

/** A self-signed ECDSA P-256 media certificate with the clientAuth EKU (certs.ts), with a node client's credentials. */
export function makeMediaCert(dir: string, name = "media"): MediaCert {
  const c = makeSelfSignedCert(dir, name);
  return {
    certPath: c.certPath,
    keyPath: c.keyPath,
    der: c.der,
    sha256: c.sha256,
    notBefore: Math.floor(Date.parse(c.notBefore) / 1000),
    creds: { certDer: c.der, key: createPrivateKey(c.keyPem) },
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
