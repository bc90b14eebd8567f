/**
 * The expected outcome of an MP case, derived only from the media settings (media.json), the
 * site database and the client's facts — never from what a run printed. Written from the
 * rules in docs/mp-protocol.md ("Decisions"), apart from the server's code (decide.ts,
 * auth.ts), so a test comparing the two can catch either one drifting.
 */
import { createHash } from "node:crypto";
import {
  MP_RESULTS,
  UDA_VARIABLE,
  type CertRejection,
  type MpMode,
  type MpResult,
  type UdaMode,
} from "../../backends/mp/protocol.ts";
import { isIpInRange, type Site } from "../../backends/mp/site.ts";

/** The media.json keys an MP case depends on. */
export interface MpMediaSettings {
  id: string;
  taskSequence: string;
  managementPoints: { mode: MpMode; list: Array<{ url: string; priority: number }> };
  unknownComputers: boolean;
  userDeviceAffinity: UdaMode;
  certificate?: { mode: "self-signed" | "pki"; sha256: string; issuer: string; notBefore: string; notAfter: string };
}

/** Which MP of the site answers at which URL (the guest's view), and which issuers HTTPS MPs trust. */
interface MpNetwork {
  mps: Array<{ name: string; url: string }>;
  /** Issuer DNs (as media.json `certificate.issuer` writes them) whose client certificates HTTPS MPs accept. */
  pkiIssuers?: string[];
}

export interface MpClientFacts {
  mac: string;
  uuid?: string;
  ip?: string;
  /** What the agent signs with: the media key ("valid"), another key ("bad"); absent = valid when the media has a certificate. */
  signature?: "valid" | "bad";
}

export interface ExpectedMpOutcome {
  /** URLs contacted, in order; the last one decided (or none answered: result null). */
  contacts: string[];
  result: MpResult | null;
  status: number | null;
  why?: CertRejection;
  policy?: {
    mp: string;
    deploymentId: string;
    taskSequence: string;
    computer: string;
    variables: Record<string, string>;
  };
}

export function expectMpOutcome(
  media: MpMediaSettings,
  site: Site,
  network: MpNetwork,
  client: MpClientFacts,
  nowSec: number,
): ExpectedMpOutcome {
  const contacts: string[] = [];
  const ordered = [...media.managementPoints.list].sort((a, b) => a.priority - b.priority);
  for (const { url } of ordered) {
    const first = network.mps.find((m) => m.url === url);
    contacts.push(url);
    if (!first) continue; // nothing listens there: the agent tries the next MP
    const home = media.managementPoints.mode === "dynamic" ? boundaryOf(site, client) : undefined;
    const homeMp = home !== undefined && home !== first.name ? network.mps.find((m) => m.name === home) : undefined;
    const authFailure = rejectCertificate(media, site, network, client, url, nowSec);
    if (authFailure) return finish(contacts, "certificate-rejected", { why: authFailure });
    if (homeMp) {
      contacts.push(homeMp.url);
      const again = rejectCertificate(media, site, network, client, homeMp.url, nowSec);
      if (again) return finish(contacts, "certificate-rejected", { why: again });
      return decideAt(homeMp.name, media, site, client, contacts);
    }
    return decideAt(first.name, media, site, client, contacts);
  }
  return { contacts, result: null, status: null };
}

function decideAt(
  mpName: string,
  media: MpMediaSettings,
  site: Site,
  client: MpClientFacts,
  contacts: string[],
): ExpectedMpOutcome {
  const computer = site.computers.find((c) => c.mac === client.mac || (!!client.uuid && c.uuid === client.uuid));
  if (!computer && !media.unknownComputers) return finish(contacts, "unknown-computer");
  const deployment = site.deployments.find(
    (d) =>
      d.taskSequence === media.taskSequence &&
      (computer
        ? d.target === "all" || (Array.isArray(d.target) && d.target.includes(computer.name))
        : d.target === "unknown"),
  );
  if (!deployment) return finish(contacts, "no-deployment");
  const variables = { ...deployment.variables, [UDA_VARIABLE.name]: UDA_VARIABLE.value[media.userDeviceAffinity] };
  return finish(contacts, "policy", {
    policy: {
      mp: mpName,
      deploymentId: deployment.id,
      taskSequence: media.taskSequence,
      computer: computer?.name ?? "Unknown",
      variables,
    },
  });
}

function boundaryOf(site: Site, client: MpClientFacts): string | undefined {
  return (
    site.boundaries.find((b) => b.macs.includes(client.mac))?.mp ??
    (client.ip ? site.boundaries.find((b) => b.ipRanges.some((r) => isIpInRange(client.ip!, r)))?.mp : undefined)
  );
}

/** Self-signed over HTTP: registered, not blocked, signed by the media key, in date. PKI over HTTPS: trusted issuer, in date. */
function rejectCertificate(
  media: MpMediaSettings,
  site: Site,
  network: MpNetwork,
  client: MpClientFacts,
  url: string,
  nowSec: number,
): CertRejection | undefined {
  const cert = media.certificate;
  const https = url.startsWith("https:");
  if (!cert) return https ? "missing-certificate" : "missing-signature";
  if (https) {
    if (!(network.pkiIssuers ?? []).includes(cert.issuer)) return "untrusted";
  } else {
    const entry = site.certificates.find(
      (c) => createHash("sha256").update(Buffer.from(c.der, "base64")).digest("hex") === cert.sha256,
    );
    if (!entry) return "unregistered";
    if (entry.blocked) return "blocked";
    if (client.signature === "bad") return "bad-signature";
  }
  if (nowSec * 1000 < Date.parse(cert.notBefore)) return "not-yet-valid";
  if (nowSec * 1000 > Date.parse(cert.notAfter)) return "expired";
  return undefined;
}

function finish(contacts: string[], result: MpResult, extra: Partial<ExpectedMpOutcome> = {}): ExpectedMpOutcome {
  return { contacts, result, status: MP_RESULTS[result], ...extra };
}
