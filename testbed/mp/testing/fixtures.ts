/**
 * Test material made with the openssl CLI (an independent implementation, and the tool the
 * boot agent has): media certificates like a build writes (ECDSA P-256, clientAuth EKU), a
 * small PKI (CA, MP server certificate, client certificate) for mutual TLS, and a site database.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { MpMediaSettings } from "../expect.ts";
import { makeSelfSignedCert, makeTempDir, type CertFiles } from "../../../backends/mp/testing/certs.ts";
import { parseSite, type Site, type SiteInput } from "../../../backends/mp/site.ts";
import { startManagementPoint, type RunningMp } from "../../../backends/mp/server.ts";

export { makePki, makeSelfSignedCert, makeTempDir, type CertFiles } from "../../../backends/mp/testing/certs.ts";

/** A bin/ folder with only busybox applets and openssl, as the initramfs has; returns its path. */
function makeInitramfsPath(dir: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin);
  execFileSync("/bin/busybox", ["--install", "-s", bin]);
  execFileSync("ln", ["-s", "/usr/bin/openssl", join(bin, "openssl")]);
  return bin;
}

/** MP1 and MP2 on loopback, each knowing the other's URL for redirects. */
async function startMpPair(site: Site): Promise<[RunningMp, RunningMp]> {
  const mp1 = await startManagementPoint({ site, name: "MP1" });
  const mp2 = await startManagementPoint({ site, name: "MP2" });
  for (const mp of [mp1, mp2]) mp.peers.set("MP1", mp1.url).set("MP2", mp2.url);
  return [mp1, mp2];
}

/** What the agent tests share: a scratch folder with the initramfs PATH, the media's certificate and a blocked one, their site, MP1 + MP2. */
export interface SiteFixture {
  dir: string;
  bin: string;
  media: CertFiles;
  stranger: CertFiles;
  site: Site;
  mp1: RunningMp;
  mp2: RunningMp;
  close(): Promise<void>;
}

export async function startSiteFixture(prefix: string): Promise<SiteFixture> {
  const dir = makeTempDir(prefix);
  const bin = makeInitramfsPath(dir);
  const media = makeSelfSignedCert(dir, "media");
  const stranger = makeSelfSignedCert(dir, "stranger");
  const site = parseSite(makeSite(media.der, stranger.der));
  const [mp1, mp2] = await startMpPair(site);
  return {
    dir,
    bin,
    media,
    stranger,
    site,
    mp1,
    mp2,
    async close() {
      await mp1.close();
      await mp2.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const MAC = {
  known: "52:54:00:00:00:01",
  unknown: "52:54:00:00:00:99",
  inMp2Boundary: "52:54:00:00:00:22",
} as const;
export const UUID_KNOWN = "4c4c4544-0042-3510-8052-b7c04f4e3432";
export const TASK_SEQUENCE = "BM200010";

/** Two MPs; MP2 serves 10.0.3.0/24 and one MAC; both registered certificates, the second blocked. */
export function makeSite(registered: Buffer, blocked: Buffer): SiteInput {
  return {
    siteCode: "BM1",
    managementPoints: ["MP1", "MP2"],
    computers: [
      { name: "PC-KNOWN", mac: MAC.known },
      { name: "PC-UUID", uuid: UUID_KNOWN },
    ],
    boundaries: [{ mp: "MP2", ipRanges: ["10.0.3.0/24"], macs: [MAC.inMp2Boundary] }],
    taskSequences: [
      { id: TASK_SEQUENCE, name: "Windows 11" },
      { id: "BM200099", name: "Undeployed" },
    ],
    deployments: [
      { id: "DEP-UNKNOWN", taskSequence: TASK_SEQUENCE, target: "unknown", variables: { OSDTimeZone: "UTC" } },
      { id: "DEP-KNOWN", taskSequence: TASK_SEQUENCE, target: "all", variables: { OSDComputerName: "from-site" } },
    ],
    certificates: [{ der: registered.toString("base64") }, { der: blocked.toString("base64"), blocked: true }],
  };
}

/** media.json's MP-related keys for a media carrying `cert`. */
export function makeMediaSettings(
  cert: CertFiles | null,
  over: Partial<MpMediaSettings> & { mps: string[] },
): MpMediaSettings {
  const { mps, ...rest } = over;
  return {
    id: "contoso-x64",
    taskSequence: TASK_SEQUENCE,
    managementPoints: { mode: "site-based", list: mps.map((url, i) => ({ url, priority: i + 1 })) },
    unknownComputers: false,
    userDeviceAffinity: "none",
    ...(cert
      ? {
          certificate: {
            mode: "self-signed" as const,
            sha256: cert.sha256,
            issuer: cert.issuer,
            notBefore: cert.notBefore,
            notAfter: cert.notAfter,
          },
        }
      : {}),
    ...rest,
  };
}
