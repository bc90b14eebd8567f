/**
 * The task-sequence engine in a real boot: media built by our CLI (reference boot image,
 * password, one MP at the guest address 10.0.2.100) booted in QEMU (x64-bios) against the
 * in-process management point, whose site gives the guest a three-step task sequence: a
 * run-command writing to the screen, a set-variable, a run-command that fails with
 * continueOnError. Oracles: the serial markers, the MP's request log (every status event
 * accepted once, the log accepted), the boot screen. One boot (~40 s). Needs `npm run fixtures`.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../testing/cli.ts";
import { buildReferenceImages, REFERENCE_LIBRARY_DIR } from "../fixtures/boot-images/build.ts";
import { describeMedia } from "./media-from-inputs.ts";
import { runTestbed } from "./testbed.ts";
import { parseSite } from "../backends/mp/site.ts";
import type { CaseResult } from "./runner.ts";

const PASSWORD = "Correct-Horse-Battery-9";
const GUEST_MAC = "52:54:00:12:34:56";
const DAY = 86_400;
const isoDate = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 10);

const STEPS = [
  { name: "Say hello", type: "run-command", command: 'echo "Hello from %OSDComputerName% (%_SMSTSMediaType%)"' },
  { name: "Remember", type: "set-variable", variable: "Stage", value: "two" },
  { name: "May fail", type: "run-command", command: "echo stage %Stage%; exit 3", continueOnError: true },
];

let result: CaseResult;
let reportDir: string;

beforeAll(async () => {
  await buildReferenceImages({ log: () => {} });
  const work = await mkdtemp(join(tmpdir(), "bm-ts-e2e-"));
  const now = Math.floor(Date.now() / 1000) + 5;
  const today = now - (now % DAY);
  await writeFile(
    join(work, "spec.yaml"),
    `name: ts-iso
bootImage: [BM100086, BM100064]
taskSequence: BM200010
contentLibrary: ${REFERENCE_LIBRARY_DIR}
target: { type: iso, output: out/ts-iso.iso }
unattended: true
managementPoints:
  mode: site-based
  list: [{ url: "http://10.0.2.100", priority: 1 }]
security:
  unknownComputers: false
  userDeviceAffinity: pending
  password: { env: MEDIA_PW }
  certificate: { selfSigned: { start: ${isoDate(today - 10 * DAY)}, expire: ${isoDate(today + 365 * DAY)} } }
customization:
  variables: { OSDTimeZone: "UTC" }
`,
  );
  const out = join(work, "ts-iso.iso");
  const env = { SOURCE_DATE_EPOCH: String(now), MEDIA_PW: PASSWORD };
  const r = await bootmedia(["build", join(work, "spec.yaml"), "--out", out, "--quiet"], { env, cwd: work });
  if (r.exitCode !== 0) throw new Error(`building the media failed: ${r.stderr}`);
  const der = new X509Certificate(readFileSync(join(work, "ts-iso.cer"))).raw;
  const site = parseSite({
    siteCode: "BM1",
    managementPoints: ["MP1"],
    computers: [{ name: "PC-GUEST", mac: GUEST_MAC }],
    taskSequences: [{ id: "BM200010", name: "Three steps", steps: STEPS }],
    deployments: [{ id: "DEP-TS", taskSequence: "BM200010", target: "all" }],
    certificates: [{ der: der.toString("base64") }],
  });
  const managementPoints = { site, mps: [{ name: "MP1", up: true }] };
  const answers = { password: [PASSWORD] };
  const report = await runTestbed({
    media: [{ ...(await describeMedia(out, "ts-iso")), label: "three-steps", answers, managementPoints }],
    profiles: ["x64-bios"],
    nics: ["e1000"],
    concurrency: 1,
    reportDir: (reportDir = join(work, "report")),
  });
  result = report.cases[0]!;
}, 600_000);

describe("a booted computer runs its task sequence (x64-bios ISO, QEMU)", () => {
  it("runs the three steps, tolerates the failure, ends with task-sequence-done and done", () => {
    const where = JSON.stringify(result.markers.slice(-6));
    expect(result.ok, where).toBe(true);
    const steps = result.markers.filter((m) => m.event === "step").map((m) => `${m.index}:${m.state}`);
    expect(steps, where).toEqual(["1:start", "1:success", "2:start", "2:success", "3:start", "3:failure"]);
    expect(result.markers.slice(-2)).toEqual([{ event: "task-sequence-done", steps: 3, failed: 1 }, { event: "done" }]);
  });

  it("shows each step on the screen: its output, and ok / failed", () => {
    const screen = readFileSync(join(reportDir, result.screenText!), "utf8");
    expect(screen).toContain("Hello from PC-GUEST (BootMedia)");
    expect(screen).toMatch(/Step 2 of 3 \.+ ok +Remember/);
    expect(screen).toMatch(/Step 3 of 3 \.+ failed +May fail \(exit 3\)/);
    expect(screen).toContain("Done: task sequence BM200010 for PC-GUEST, 3 steps, 1 failed.");
  });

  it("posted every event to the MP once (seq 1..7 accepted) and the log", () => {
    const requests = result.managementPoints![0]!.requests;
    const status = requests.filter((q) => q.path.endsWith("/status"));
    expect(status.map((q) => [q.seq, q.result])).toEqual([1, 2, 3, 4, 5, 6, 7].map((seq) => [seq, "accepted"]));
    for (const q of status) expect(q.client.mac).toBe(GUEST_MAC);
    expect(requests.filter((q) => q.path.endsWith("/log")).map((q) => q.result)).toEqual(["accepted"]);
  });
});
