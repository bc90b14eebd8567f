/** Small media for check/diff tests: the embedded sample library, a password, a self-signed certificate, prestart files. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bootmedia } from "../../../testing/cli.ts";

export const PASSWORD = "Correct-Horse-Battery-9";
export const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface SampleOptions {
  name?: string;
  kind?: "iso" | "usb" | "directory";
  variables?: Record<string, string>;
  /** Days from now: [start, expire]; undefined: no certificate. */
  certificate?: [number, number];
  prestart?: Record<string, string>;
  machines?: string[];
}

/** Writes spec + prestart folder into `dir` and builds it with a fixed SOURCE_DATE_EPOCH; returns the output path. */
export async function buildSample(dir: string, o: SampleOptions, epochSec: number): Promise<string> {
  const kind = o.kind ?? "iso";
  const name = o.name ?? "sample";
  const out = join(dir, kind === "iso" ? `${name}.iso` : kind === "usb" ? `${name}.img` : name);
  await mkdir(join(dir, "pre"), { recursive: true });
  for (const [f, text] of Object.entries(o.prestart ?? { "check.sh": "echo ok\n" }))
    await writeFile(join(dir, "pre", f), text);
  const now = epochSec * 1000;
  const cert = o.certificate
    ? `\n  certificate: { selfSigned: { start: ${day(now + o.certificate[0] * DAY_MS)}, expire: ${day(now + o.certificate[1] * DAY_MS)} } }`
    : "";
  const vars = Object.entries(o.variables ?? { OSDTimeZone: "UTC" })
    .map(([k, v]) => `${k}: "${v}"`)
    .join(", ");
  await writeFile(
    join(dir, "spec.yaml"),
    `name: ${name}
bootImage: BM100001
taskSequence: BM200010
target: { type: ${kind}, output: ${out} }
managementPoints: { mode: dynamic, list: [{ url: "http://mp1.contoso.test", priority: 1 }, { url: "http://mp2.contoso.test", priority: 2 }] }
security:
  unknownComputers: true
  password: { env: MEDIA_PW }${cert}
customization:
  variables: { ${vars} }
  prestart: { command: "sh bootmedia/prestart/check.sh", files: pre/ }
machines: [${(o.machines ?? ["{ arch: x64, firmware: uefi }"]).join(", ")}]
`,
  );
  const r = await bootmedia(["build", join(dir, "spec.yaml"), "--quiet", "--force"], {
    env: { MEDIA_PW: PASSWORD, SOURCE_DATE_EPOCH: String(epochSec) },
    cwd: dir,
  });
  if (r.exitCode !== 0) throw new Error(`build failed: ${r.stderr}`);
  return out;
}
