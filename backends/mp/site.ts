/**
 * The simulated site database: what a management point knows. A small JSON-able object so
 * test cases can write it inline or keep it in a file beside their spec.
 */
import { X509Certificate } from "node:crypto";
import { z } from "zod";
import { BootmediaError } from "../../base/errors.ts";
import { validateSteps } from "../../core/task-sequence/steps.ts";
import "./codes.ts";

/** "10.0.2.0/24" or "10.0.2.10-10.0.2.50" (inclusive). */
const IpRange = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2}|-\d{1,3}(\.\d{1,3}){3})$/);
const Mac = z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

export const SiteSchema = z.strictObject({
  siteCode: z.string().regex(/^[A-Z0-9]{3}$/),
  /** MP names; a running simulator plays one of them. */
  managementPoints: z.array(z.string().min(1)).min(1),
  /** Computers the site knows, matched by MAC or SMBIOS UUID (either is enough, as in SCCM). */
  computers: z
    .array(z.strictObject({ name: z.string().min(1), mac: Mac.optional(), uuid: Uuid.optional() }))
    .default([]),
  /** Boundaries: a client whose IP is in `ipRanges` or whose MAC is in `macs` belongs to `mp`. */
  boundaries: z
    .array(z.strictObject({ mp: z.string(), ipRanges: z.array(IpRange).default([]), macs: z.array(Mac).default([]) }))
    .default([]),
  /** The content library folder (relative to the site file): task-sequence packages' steps, packages' files. */
  library: z.string().min(1).optional(),
  /** Distribution points, in the order clients try them: a package's content location is `<url>/packages/<id>/files/`. */
  distributionPoints: z
    .array(z.strictObject({ name: z.string().min(1), url: z.url({ protocol: /^https?$/ }) }))
    .default([]),
  /**
   * `steps` inline (the steps file's schema, core/task-sequence/steps.ts), or none: then the
   * library's task-sequence package of the same id gives them (site-content.ts), or the task
   * sequence has no steps (the policy answer carries none).
   */
  taskSequences: z
    .array(z.strictObject({ id: z.string(), name: z.string(), steps: z.array(z.unknown()).optional() }))
    .default([]),
  /** `target`: "unknown" (All Unknown Computers), "all" (every known computer) or computer names. */
  deployments: z
    .array(
      z.strictObject({
        id: z.string(),
        taskSequence: z.string(),
        target: z.union([z.literal("unknown"), z.literal("all"), z.array(z.string())]),
        variables: z.record(z.string(), z.string()).default({}),
      }),
    )
    .default([]),
  /** Registered media certificates (the DER `.cer` a build writes), base64; `blocked` = revoked at the site. */
  certificates: z.array(z.strictObject({ der: z.base64(), blocked: z.boolean().default(false) })).default([]),
});
export type Site = z.output<typeof SiteSchema>;
export type SiteInput = z.input<typeof SiteSchema>;

/** Validates a site database; BM5302 names the first bad field. */
export function parseSite(input: unknown, where?: string): Site {
  const r = SiteSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new BootmediaError("BM5302", `site database: ${issue.path.join(".") || "(root)"}: ${issue.message}`, {
      where,
    });
  }
  const names = new Set(r.data.managementPoints);
  for (const b of r.data.boundaries) {
    if (!names.has(b.mp))
      throw new BootmediaError("BM5302", `site database: boundary names unknown management point ${b.mp}`, { where });
  }
  const sequences = new Set(r.data.taskSequences.map((t) => t.id));
  for (const d of r.data.deployments) {
    if (sequences.size > 0 && !sequences.has(d.taskSequence))
      throw new BootmediaError(
        "BM5302",
        `site database: deployment ${d.id} deploys unknown task sequence ${d.taskSequence}`,
        { where },
      );
  }
  for (const t of r.data.taskSequences) if (t.steps) validateInlineSteps(t, where);
  return r.data;
}

/** The inline steps of a task sequence, validated; errors keep their BM24xx code and name the site and the sequence. */
export function validateInlineSteps(t: { id: string; steps?: unknown[] }, where?: string) {
  try {
    return validateSteps({ steps: t.steps }, where);
  } catch (e) {
    if (!(e instanceof BootmediaError)) throw e;
    throw new BootmediaError(e.code, `site database: task sequence ${t.id}: ${e.message}`, { where, cause: e });
  }
}

/** @public reachable from the package's API types. */
export type Computer = Site["computers"][number];

/** A known computer by MAC or SMBIOS UUID. */
export function findComputer(site: Site, client: { mac: string; uuid?: string }): Computer | undefined {
  return site.computers.find((c) => c.mac === client.mac || (client.uuid !== undefined && c.uuid === client.uuid));
}

/** The MP whose boundary holds the client (MAC first: it is the more specific fact), or undefined. */
export function findBoundaryMp(site: Site, client: { mac: string; ip?: string }): string | undefined {
  const byMac = site.boundaries.find((b) => b.macs.includes(client.mac));
  if (byMac) return byMac.mp;
  if (client.ip === undefined) return undefined;
  return site.boundaries.find((b) => b.ipRanges.some((r) => isIpInRange(client.ip!, r)))?.mp;
}

/** The deployment of `taskSequence` that targets this client (a named computer, all known, or unknown). */
export function findDeployment(
  site: Site,
  taskSequence: string,
  computer: Computer | undefined,
): Site["deployments"][number] | undefined {
  return site.deployments.find((d) => {
    if (d.taskSequence !== taskSequence) return false;
    if (!computer) return d.target === "unknown";
    return d.target === "all" || (Array.isArray(d.target) && d.target.includes(computer.name));
  });
}

/** Parsed registered certificates by SHA-256 (hex), once per site: parsing DER on every request costs more than the rest of it. */
const registered = new WeakMap<Site, Map<string, { cert: X509Certificate; blocked: boolean }>>();

/** The registered certificate whose DER hashes to `sha256` (hex). */
export function findRegisteredCertificate(
  site: Site,
  sha256: string,
): { cert: X509Certificate; blocked: boolean } | undefined {
  let bySha = registered.get(site);
  if (!bySha) {
    bySha = new Map();
    for (const c of site.certificates) {
      const cert = new X509Certificate(Buffer.from(c.der, "base64"));
      const key = cert.fingerprint256.replace(/:/g, "").toLowerCase();
      if (!bySha.has(key)) bySha.set(key, { cert, blocked: c.blocked });
    }
    registered.set(site, bySha);
  }
  return bySha.get(sha256.toLowerCase());
}

function ipToNumber(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`not an IPv4 address: ${ip}`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

/** CIDR or inclusive from-to range. */
export function isIpInRange(ip: string, range: string): boolean {
  const n = ipToNumber(ip);
  if (range.includes("/")) {
    const [base, bits] = range.split("/") as [string, string];
    const prefix = Number(bits);
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    return (n & mask) >>> 0 === (ipToNumber(base) & mask) >>> 0;
  }
  const [from, to] = range.split("-") as [string, string];
  return n >= ipToNumber(from) && n <= ipToNumber(to);
}
