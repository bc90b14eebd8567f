/**
 * `bootmedia testbed --site` with a case that replaces one part of the site (its
 * deployments) and nothing else: the guest stays a computer the site knows, and the one
 * deployment left targets unknown computers, so the MP answers no-deployment. (When the
 * override emptied the other parts too, the guest turned unknown: unknown-computer, a
 * prediction nobody wrote.) Run by the CLI and booted in QEMU. Needs `npm run fixtures`.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../testing/cli.ts";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { writeSiteExample } from "./testing/site-example.ts";

const SITE = `site:
  siteCode: BM1
  managementPoints: [MP1]
  computers: [{ name: PC-GUEST, mac: "52:54:00:12:34:56" }]
  taskSequences: [{ id: BM200010, name: Windows 11 }]
  deployments: [{ id: DEP-ALL, taskSequence: BM200010, target: all }]
  certificates: [{ media: site-iso }]
media:
  site-iso: site-iso.yaml
cases:
  - name: deployments-only
    media: site-iso
    profile: x64-bios
    mps: [{ name: MP1 }]
    site: { deployments: [{ id: DEP-UNKNOWN, taskSequence: BM200010, target: unknown }] }
    answers: { password: ["env:MEDIA_PW"] }
`;

type SiteJson = {
  ok: boolean;
  cases: Array<{
    name: string;
    ok: boolean;
    actual: { status: string; reason?: string };
    expectedMp: { result: string | null; contacts: string[] };
  }>;
};
let run: { exitCode: number | undefined; json: SiteJson; stderr: string };

beforeAll(async () => {
  await referenceImages();
  const dir = await mkdtemp(join(tmpdir(), "bm-site-parts-"));
  const site = await writeSiteExample(dir); // its specs; the site file is this test's own
  await writeFile(site, SITE);
  const r = await bootmedia(
    ["testbed", "--site", site, "--report-dir", join(dir, "report"), "--timeout", "400", "--json"],
    { env: { MEDIA_PW: "Correct-Horse-Battery-9" }, cwd: dir },
  );
  run = { exitCode: r.exitCode, json: JSON.parse(r.stdout) as SiteJson, stderr: r.stderr };
}, 1_500_000);

describe("testbed --site: a case replacing only the deployments", () => {
  it("is predicted no-deployment from the known computer, and ends no-deployment", () => {
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json.cases).toHaveLength(1);
    expect(run.json.cases[0]).toMatchObject({
      name: "deployments-only",
      ok: true,
      expectedMp: { result: "no-deployment", contacts: ["http://10.0.2.100"] },
      actual: { status: "fail", reason: "no-deployment" },
    });
  });
});
