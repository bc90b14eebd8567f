/**
 * `bootmedia inspect --check`: would these media fail soon, for reasons bootmedia can see?
 * The media certificate's dates (expired, expiring within `warnDays`, not yet valid), files
 * that no longer hash to bootmedia/manifest.json, and machines (recorded at build, or a
 * current spec's) the boot images and boot paths on the media no longer cover. Findings are
 * diagnostics with the codes `build` uses for the same facts.
 */
import { createHash, X509Certificate } from "node:crypto";
import { diagnostic, type Diagnostic } from "../../base/diagnostics.ts";
import { missingDrivers, planBoot, type Arch, type Firmware } from "../../core/compat.ts";
import { MANIFEST_PATH, parseMediaManifest, type MediaManifest } from "../../plugins/media-manifest/manifest.ts";
import type { OpenedMedia } from "../../core/plugin.ts";
import { checkStandalone, readStandalone, type StandaloneCheck } from "../../plugins/standalone/index.ts";
// The codes `build` uses for the same facts, registered here too: `inspect` composes no build.
import "../../plugins/media-manifest/codes.ts";
import "../../plugins/certificates/codes.ts";
import "../../plugins/boot-image/codes.ts";

export const DEFAULT_WARN_DAYS = 30;
const DAY_MS = 86_400_000;
const CERT_FILE = "bootmedia/media.crt";
/** A CD/DVD set's volume marker: files recorded in the manifest may sit on another volume. */
const VOLUME_FILE = "bootmedia/volume.json";

interface CheckOptions {
  warnDays?: number;
  /** Milliseconds since the epoch; default: now. */
  now?: number;
  /** Machines to check instead of the ones the manifest recorded (a current spec's). */
  machines?: Array<{ arch: Arch; firmware: Firmware; nic?: string }>;
}

export interface CheckResult {
  media: string;
  kind: string;
  certificate?: { subject: string; notBefore: string; notAfter: string; daysLeft: number };
  filesChecked: number;
  machinesChecked: number;
  /** Stand-alone media: their package files joined from their pieces and rehashed. */
  standalone?: StandaloneCheck;
  findings: Diagnostic[];
}

export async function checkMedia(media: OpenedMedia, opts: CheckOptions = {}): Promise<CheckResult> {
  const now = opts.now ?? Date.now();
  const findings: Diagnostic[] = [];
  const certificate = await checkCertificate(media, now, opts.warnDays ?? DEFAULT_WARN_DAYS, findings);
  const manifestBytes = await media.read(MANIFEST_PATH);
  const manifest = manifestBytes ? parseMediaManifest(manifestBytes.toString("utf8")) : undefined;
  if (!manifest) {
    findings.push(
      diagnostic("BM3502", `${media.path} has no readable ${MANIFEST_PATH}: its files cannot be checked`, {
        severity: "warning",
        path: MANIFEST_PATH,
      }),
    );
  }
  const filesChecked = manifest ? await checkFiles(media, manifest, findings) : 0;
  const standaloneReport = await readStandalone(media);
  const standalone = standaloneReport ? await checkStandalone(media, standaloneReport, findings) : undefined;
  const machines = opts.machines ?? manifest?.machines ?? [];
  checkMachines(media, manifest, machines, findings);
  return {
    media: media.path,
    kind: media.kind,
    ...(certificate ? { certificate } : {}),
    filesChecked,
    machinesChecked: machines.length,
    ...(standalone ? { standalone } : {}),
    findings,
  };
}

async function checkCertificate(
  media: OpenedMedia,
  now: number,
  warnDays: number,
  findings: Diagnostic[],
): Promise<CheckResult["certificate"]> {
  const pem = await media.read(CERT_FILE);
  if (!pem) return undefined;
  const cert = new X509Certificate(pem);
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  const daysLeft = Math.floor((notAfter.getTime() - now) / DAY_MS);
  const day = (d: Date) => d.toISOString().replace(/\.000Z$/, "Z");
  const at = { path: CERT_FILE };
  if (now > notAfter.getTime()) {
    findings.push(
      diagnostic("BM3405", `the media certificate expired on ${day(notAfter)}`, {
        ...at,
        hint: "Media with an expired certificate are refused by the management points: rebuild the media with a new certificate and register it at the site.",
      }),
    );
  } else if (daysLeft < warnDays) {
    findings.push(
      diagnostic(
        "BM3406",
        `the media certificate expires on ${day(notAfter)}, in ${daysLeft} days (warning threshold ${warnDays} days)`,
        {
          ...at,
          hint: "Rebuild the media with a certificate that expires later and register it at the site before this one expires.",
        },
      ),
    );
  }
  if (now < notBefore.getTime()) {
    findings.push(diagnostic("BM3407", `the media certificate is valid only from ${day(notBefore)}`, at));
  }
  return { subject: cert.subject.replace(/\n/g, ", "), notBefore: day(notBefore), notAfter: day(notAfter), daysLeft };
}

async function checkFiles(media: OpenedMedia, manifest: MediaManifest, findings: Diagnostic[]): Promise<number> {
  const partOfSet = media.files.some((f) => f.path === VOLUME_FILE);
  let checked = 0;
  for (const f of manifest.files) {
    const what = f.boot ? "boot file" : "file";
    // Streamed: stand-alone media hold OS images of gigabytes.
    const hash = createHash("sha256");
    const size = await media.stream(f.path, (chunk) => hash.update(chunk));
    if (size === undefined) {
      if (!partOfSet)
        findings.push(
          diagnostic("BM3501", `${what} ${f.path} is missing (recorded: ${f.size} bytes, sha256 ${f.sha256})`, {
            path: f.path,
          }),
        );
      continue;
    }
    checked++;
    const sha256 = hash.digest("hex");
    if (sha256 !== f.sha256 || size !== f.size) {
      findings.push(
        diagnostic(
          "BM3501",
          `${what} ${f.path} differs from the manifest: sha256 ${sha256} (${size} bytes), recorded ${f.sha256} (${f.size} bytes)`,
          { path: f.path },
        ),
      );
    }
  }
  return checked;
}

function checkMachines(
  media: OpenedMedia,
  manifest: MediaManifest | undefined,
  machines: NonNullable<CheckOptions["machines"]>,
  findings: Diagnostic[],
): void {
  const images = (media.config?.images ?? []) as Array<{ arch: Arch; drivers?: string[] }>;
  const arches = [...new Set(images.map((i) => i.arch))];
  const present = new Set(media.files.map((f) => f.path));
  for (const m of machines) {
    const where = `machine ${m.arch}-${m.firmware}${m.nic ? `:${m.nic}` : ""}`;
    const plan = planBoot(m, arches);
    if (!plan.ok) {
      findings.push(
        diagnostic("BM3003", `${where} is not covered: the media's boot images are ${arches.join(", ") || "none"}`, {
          path: where,
        }),
      );
      continue;
    }
    if (manifest) {
      const paths = manifest.boot.filter(
        (b) => b.firmware === m.firmware && (m.firmware === "bios" || b.arch === m.arch),
      );
      if (!paths.some((b) => present.has(b.path))) {
        findings.push(
          diagnostic("BM3007", `${where} is not covered: the media has no ${m.firmware} boot file for it`, {
            path: where,
          }),
        );
        continue;
      }
    }
    const image = images.find((i) => i.arch === plan.image);
    if (m.nic && image && missingDrivers([m.nic], image.drivers ?? []).length > 0) {
      findings.push(
        diagnostic("BM3004", `${where} is not covered: the ${plan.image} boot image lacks its NIC driver ${m.nic}`, {
          path: where,
        }),
      );
    }
  }
}
