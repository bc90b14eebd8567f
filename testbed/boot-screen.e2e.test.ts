/**
 * The boot screen a technician reads, end to end: media built by our CLI (password,
 * self-signed certificate, one management point) booted on x64-bios, its last screen read
 * back as VGA text (screen.txt, testbed/vga-text.ts) — an independent reader of what the
 * agent drew — and its markers still on the serial line. Three cases: the site knows the
 * computer (ready), three wrong passwords, and the management point down. Their screenshots
 * are the report's and docs/boot-screen-*.png. Needs `npm run fixtures`.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../testing/cli.ts";
import { REFERENCE_LIBRARY_DIR } from "../fixtures/boot-images/build.ts";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { describeMedia } from "./media-from-inputs.ts";
import { runTestbed } from "./testbed.ts";
import type { TestbedReport } from "./report-model.ts";
import type { SiteInput } from "../backends/mp/site.ts";

const PASSWORD = "Correct-Horse-Battery-9";
const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const spec = (now: number) => `name: contoso-win11
bootImage: [BM100086, BM100064]
taskSequence: BM200010
contentLibrary: ${REFERENCE_LIBRARY_DIR}
target: { type: iso, output: contoso-win11.iso }
unattended: true
managementPoints:
  mode: site-based
  list: [{ url: "http://10.0.2.100", priority: 1 }]
security:
  unknownComputers: false
  password: { env: MEDIA_PW }
  certificate: { selfSigned: { start: ${day(now - 10 * DAY)}, expire: ${day(now + 365 * DAY)} } }
`;

/** Sentences folded to the screen's width, compared with the line breaks taken out. */
const squash = (text: string) => text.replace(/\s+/g, " ");

let report: TestbedReport;
let reportDir: string;
const screenOf = (label: string) => {
  const c = report.cases.find((x) => x.media.label === label)!;
  expect(c.screenText, `${c.id} has no text screen`).toBeDefined();
  return { c, text: readFileSync(join(reportDir, c.screenText!), "utf8") };
};

beforeAll(async () => {
  await referenceImages();
  const work = await mkdtemp(join(tmpdir(), "bm-boot-screen-"));
  const now = Date.now();
  await mkdir(work, { recursive: true });
  await writeFile(join(work, "spec.yaml"), spec(now));
  const out = join(work, "contoso-win11.iso");
  const built = await bootmedia(["build", join(work, "spec.yaml"), "--out", out, "--quiet"], {
    env: { MEDIA_PW: PASSWORD, SOURCE_DATE_EPOCH: String(Math.floor(now / 1000)) },
    cwd: work,
  });
  if (built.exitCode !== 0) throw new Error(`build failed: ${built.stderr}`);
  const der = new X509Certificate(readFileSync(join(work, "contoso-win11.cer"))).raw;
  const site: SiteInput = {
    siteCode: "BM1",
    managementPoints: ["MP1"],
    computers: [{ name: "PC-GUEST", mac: "52:54:00:12:34:56" }],
    boundaries: [],
    taskSequences: [{ id: "BM200010", name: "Windows 11" }],
    deployments: [{ id: "DEP-ALL", taskSequence: "BM200010", target: "all", variables: {} }],
    certificates: [{ der: der.toString("base64") }],
  };
  const media = await describeMedia(out, "contoso");
  reportDir = join(work, "report");
  report = await runTestbed({
    media: [
      {
        ...media,
        label: "ready",
        answers: { password: [PASSWORD] },
        managementPoints: { site, mps: [{ name: "MP1", up: true }] },
      },
      {
        ...media,
        label: "wrong-password",
        answers: { password: ["guess-1", "guess-2", "guess-3"] },
        expectFailure: "wrong-password",
        managementPoints: { site, mps: [{ name: "MP1", up: true }] },
      },
      {
        ...media,
        label: "mp-down",
        answers: { password: [PASSWORD] },
        expectFailure: "no-mp-reachable",
        managementPoints: { site, mps: [{ name: "MP1", up: false }] },
      },
    ],
    profiles: ["x64-bios"],
    nics: ["e1000"],
    reportDir,
    concurrency: 2,
  });
}, 600_000);

describe("the boot screen, read back from the VGA text buffer", () => {
  it("ends every case as predicted, the markers unchanged on the serial line", () => {
    for (const c of report.cases) expect(c.ok, `${c.id}: ${JSON.stringify(c.actual)}`).toBe(true);
    const ready = report.cases.find((c) => c.media.label === "ready")!;
    expect(ready.markers.map((m) => m.event)).toEqual([
      "booted",
      "media",
      "drivers",
      "prompt",
      "password",
      "secrets",
      "settings",
      "certificate",
      "network",
      "task-sequence",
      "prestart",
      "policy",
      "done",
    ]);
    expect(readFileSync(join(reportDir, ready.serialLog), "utf8")).toContain('BOOTMEDIA {"event":"policy"');
  });

  it("ready: the media's name, each step ok in words, the deployment, no marker", () => {
    const { text } = screenOf("ready");
    expect(text).toContain("bootmedia  -  contoso-win11");
    expect(text).toContain("Task sequence BM200010, 1 management point. This computer: 64-bit, BIOS.");
    for (const step of [
      "Boot media found",
      "Storage drivers",
      "Network adapter driver",
      "Media password",
      "Media certificate",
      "Network settings",
      "Task sequence",
      "Management point",
    ]) {
      expect(text).toMatch(new RegExp(`${step} \\.+ ok`));
    }
    expect(text).toMatch(/Prestart command \.+ not needed/);
    expect(text).toContain("Ready: this computer can be deployed. Deployment DEP-ALL for PC-GUEST.");
    expect(text).not.toContain("BOOTMEDIA");
  });

  it("wrong password: attempts left, then what went wrong and what to do", () => {
    const { text } = screenOf("wrong-password");
    expect(text).toMatch(/Media password \.+ failed +wrong 3 times$/m);
    expect(squash(text)).toContain("The media password was typed wrong three times.");
    expect(squash(text)).toContain("Ask your administrator for the media password");
    expect(text).not.toContain("guess-");
  });

  it("management point down: which one was asked, what went wrong and what to do", () => {
    const { text } = screenOf("mp-down");
    expect(text).toContain("http://10.0.2.100");
    expect(text).toMatch(/Management point \.+ failed +none answered$/m);
    expect(squash(text)).toContain("No management point answered.");
    expect(text).toMatch(/Reason code +no-mp-reachable$/m);
  });
});
