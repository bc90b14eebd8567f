/** The site file of docs/testbed.md ("Site files"), written into a folder with its two specs (tests run it). */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { REFERENCE_LIBRARY_DIR } from "../../fixtures/boot-images/build.ts";

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function spec(name: string, kind: "iso" | "usb", mode: "site-based" | "dynamic", mps: string[], now: number): string {
  return `name: ${name}
bootImage: [BM100086, BM100064]
taskSequence: BM200010
contentLibrary: ${REFERENCE_LIBRARY_DIR}
target: { type: ${kind}, output: ${name}.${kind === "iso" ? "iso" : "img"} }
unattended: true
managementPoints:
  mode: ${mode}
  list:
${mps.map((url, i) => `    - { url: "${url}", priority: ${i + 1} }`).join("\n")}
security:
  unknownComputers: false
  userDeviceAffinity: pending
  password: { env: MEDIA_PW }
  certificate: { selfSigned: { start: ${day(now - 10 * DAY_MS)}, expire: ${day(now + 365 * DAY_MS)} } }
`;
}

export const SITE_FILE = `# A site with two management points; the guest (QEMU's 52:54:00:12:34:56) is PC-GUEST.
site:
  siteCode: BM1
  managementPoints: [MP1, MP2]
  computers: [{ name: PC-GUEST, mac: "52:54:00:12:34:56" }]
  taskSequences:
    - id: BM200010
      name: Windows 11
      steps:                       # what the guest runs after its policy (docs/task-sequences.md)
        - { name: Say hello, type: run-command, command: "echo Deploying %OSDComputerName%" }
        - { name: Remember, type: set-variable, variable: Stage, value: greeted }
        - { name: Optional check, type: run-command, command: "exit 3", continueOnError: true, condition: { variable: Stage, equals: greeted } }
  deployments:
    - { id: DEP-ALL, taskSequence: BM200010, target: all, variables: { OSDComputerName: from-site } }
  certificates: [{ media: site-iso }, { media: dynamic-usb }]   # their registration .cer files
media:
  site-iso: site-iso.yaml          # site-based ISO, MP http://10.0.2.100
  dynamic-usb: dynamic-usb.yaml    # dynamic USB image, MPs http://10.0.2.100 then .101
cases:
  - { name: known-computer, media: site-iso, profile: x64-bios, mps: [{ name: MP1 }], answers: { password: ["env:MEDIA_PW"] } }
  - { name: unknown-refused, media: site-iso, profile: x64-bios, mps: [{ name: MP1 }], site: { computers: [] }, answers: { password: ["env:MEDIA_PW"] } }
  - { name: first-mp-down, media: dynamic-usb, profile: x86-bios, mps: [{ name: MP1, up: false }, { name: MP2 }], answers: { password: ["env:MEDIA_PW"] } }
  - { name: expired-certificate, media: site-iso, profile: x64-bios, mps: [{ name: MP1 }], clock: certificate-expired, answers: { password: ["env:MEDIA_PW"] } }
`;

export async function writeSiteExample(dir: string, now = Date.now()): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "site-iso.yaml"), spec("site-iso", "iso", "site-based", ["http://10.0.2.100"], now));
  await writeFile(
    join(dir, "dynamic-usb.yaml"),
    spec("dynamic-usb", "usb", "dynamic", ["http://10.0.2.100", "http://10.0.2.101"], now),
  );
  await writeFile(join(dir, "site.yaml"), SITE_FILE);
  return join(dir, "site.yaml");
}
