/**
 * The spec of the media the deploy tests and the deploy bench boot: an unattended ISO of the
 * reference library's boot image that asks one site-based MP at http://10.0.2.100 (the first
 * guest address the testbed routes), its password from MEDIA_PW, a self-signed media
 * certificate valid from yesterday for a year.
 */
import { REFERENCE_LIBRARY_DIR } from "../../fixtures/boot-images/build.ts";

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface DeployMediaOptions {
  /** The media's name; the ISO is `<name>.iso`. */
  name: string;
  /** The boot image package (default: the x64 reference image). */
  bootImage?: string;
  userDeviceAffinity?: "auto" | "pending";
  /** More top-level spec lines (e.g. `secureBoot: { chain: signed }`), each ending in a newline. */
  extra?: string;
  now?: number;
}

export function deployMediaSpec(o: DeployMediaOptions): string {
  const now = o.now ?? Date.now();
  return `name: ${o.name}
bootImage: [${o.bootImage ?? "BM100064"}]
taskSequence: BM200010
contentLibrary: ${REFERENCE_LIBRARY_DIR}
target: { type: iso, output: ${o.name}.iso }
unattended: true
${o.extra ?? ""}managementPoints: { mode: site-based, list: [{ url: "http://10.0.2.100", priority: 1 }] }
security:
  unknownComputers: false
  userDeviceAffinity: ${o.userDeviceAffinity ?? "auto"}
  password: { env: MEDIA_PW }
  certificate: { selfSigned: { start: ${day(now - DAY_MS)}, expire: ${day(now + 365 * DAY_MS)} } }
`;
}
