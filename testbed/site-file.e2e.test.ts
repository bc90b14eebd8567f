/**
 * `bootmedia testbed --site` end to end: the site file of docs/testbed.md, run by the CLI
 * (its media built from specs, booted in QEMU with the MPs on loopback). Expected outcomes
 * come from expectMpOutcome inside the CLI; here each case's verdict is also pinned by hand,
 * so a rule drifting in both places at once still fails. One case is added to the example's
 * four (same run, same built media): deployments-only, which replaces one part of the site
 * and nothing else. Needs `npm run fixtures`.
 */
import { appendFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../testing/cli.ts";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { writeSiteExample } from "./testing/site-example.ts";

/**
 * A case replacing only the site's deployments: the guest stays a computer the site knows,
 * and the one deployment left targets unknown computers, so the MP answers no-deployment.
 * (When the override emptied the other parts too, the guest turned unknown: unknown-computer,
 * a prediction nobody wrote.)
 */
const DEPLOYMENTS_ONLY = `  - { name: deployments-only, media: site-iso, profile: x64-bios, mps: [{ name: MP1 }], site: { deployments: [{ id: DEP-UNKNOWN, taskSequence: BM200010, target: unknown }] }, answers: { password: ["env:MEDIA_PW"] } }
`;

type SiteJson = {
  ok: boolean;
  cases: Array<{
    name: string;
    ok: boolean;
    expected: { status: string; reason?: string };
    actual: { status: string; reason?: string };
    expectedMp: { contacts: string[]; result: string | null; why?: string };
    taskSequence?: { problems: string[]; timeline: Array<{ name: string; state: string; exitCode?: number }> };
  }>;
};
let run: { exitCode: number | undefined; json: SiteJson; stderr: string };

beforeAll(async () => {
  await referenceImages();
  const dir = await mkdtemp(join(tmpdir(), "bm-site-file-"));
  const site = await writeSiteExample(dir);
  await appendFile(site, DEPLOYMENTS_ONLY);
  const r = await bootmedia(
    [
      "testbed",
      "--site",
      site,
      "--report-dir",
      join(dir, "report"),
      "--concurrency",
      "2",
      "--timeout",
      "400",
      "--json",
    ],
    { env: { MEDIA_PW: "Correct-Horse-Battery-9" }, cwd: dir },
  );
  run = { exitCode: r.exitCode, json: JSON.parse(r.stdout) as SiteJson, stderr: r.stderr };
}, 1_500_000);

describe("testbed --site (site file from docs/testbed.md)", () => {
  it("runs the four cases and the added one, all as expected, exit 0", () => {
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json.cases.map((c) => [c.name, c.ok]).sort()).toEqual([
      ["deployments-only", true],
      ["expired-certificate", true],
      ["first-mp-down", true],
      ["known-computer", true],
      ["unknown-refused", true],
    ]);
  });

  it("each verdict is the one the site rules give", () => {
    const by = Object.fromEntries(run.json.cases.map((c) => [c.name, c]));
    expect(by["known-computer"]).toMatchObject({
      actual: { status: "pass" },
      expectedMp: { result: "policy", contacts: ["http://10.0.2.100"] },
    });
    expect(by["unknown-refused"]).toMatchObject({ actual: { status: "fail", reason: "unknown-computer" } });
    expect(by["first-mp-down"]).toMatchObject({
      actual: { status: "pass" },
      expectedMp: { result: "policy", contacts: ["http://10.0.2.100", "http://10.0.2.101"] },
    });
    expect(by["expired-certificate"]).toMatchObject({
      actual: { status: "fail", reason: "certificate-rejected" },
      expectedMp: { why: "expired" },
    });
  });

  it("a case given a policy runs the site's task sequence, judged by its steps and the MP's status log", () => {
    for (const name of ["known-computer", "first-mp-down"]) {
      const ts = run.json.cases.find((c) => c.name === name)!.taskSequence;
      expect(ts?.problems, name).toEqual([]);
      expect(ts?.timeline.map((r) => [r.name, r.state, r.exitCode])).toEqual([
        ["Say hello", "success", 0],
        ["Remember", "success", undefined],
        ["Optional check", "failure", 3],
      ]);
    }
    // Cases the MP refused never reach the steps.
    expect(run.json.cases.find((c) => c.name === "unknown-refused")!.taskSequence).toBeUndefined();
  });

  it("a case replacing only the deployments is predicted no-deployment from the known computer, and ends no-deployment", () => {
    expect(run.json.cases.find((c) => c.name === "deployments-only")).toMatchObject({
      name: "deployments-only",
      ok: true,
      expectedMp: { result: "no-deployment", contacts: ["http://10.0.2.100"] },
      actual: { status: "fail", reason: "no-deployment" },
    });
  });
});
