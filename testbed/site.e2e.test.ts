/**
 * The whole site, end to end: media built by our CLI with guest-address MPs and a password,
 * booted in QEMU; the agent brings up the network and asks the case's management points
 * (testbed/mp/ simulators on loopback, reached through the restricted guest network) for
 * its policy. Every expected outcome comes from expectMpOutcome (media.json read off the
 * media by osirrox / mtools + the site database), never from what a run printed; a case
 * refused where it should get its policy (or the reverse) fails. Needs `npm run fixtures`.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../testing/cli.ts";
import { REFERENCE_LIBRARY_DIR } from "../fixtures/boot-images/build.ts";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { describeMedia } from "./media-from-inputs.ts";
import { runTestbed } from "./testbed.ts";
import { expectMpOutcome, type ExpectedMpOutcome, type MpMediaSettings } from "./mp/expect.ts";
import { parseSite, type SiteInput } from "../backends/mp/site.ts";
import { makePki, type CertFiles } from "./mp/testing/fixtures.ts";
import type { CaseManagementPoints } from "./mp-case.ts";
import type { CaseResult } from "./runner.ts";
import type { MediaUnderTest } from "./matrix.ts";
import type { ExpectedFailure } from "./verdict.ts";
import type { ProfileId } from "./profiles.ts";

const PASSWORD = "Correct-Horse-Battery-9";
const PFX_PASSWORD = "pfx-Passw0rd";
/** QEMU's default MAC for the first NIC and slirp's guest address (the agent's fallback). */
const GUEST = { mac: "52:54:00:12:34:56", ip: "10.0.2.15" } as const;
const DAY = 86_400;
const isoDate = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 10);

interface MediaDef {
  name: string;
  kind: "iso" | "usb";
  unattended: boolean;
  unknownComputers: boolean;
  mode: "dynamic" | "site-based";
  mps: string[];
  pki?: boolean;
}

function specText(m: MediaDef, today: number): string {
  const list = m.mps.map((url, i) => `    - { url: "${url}", priority: ${i + 1} }`).join("\n");
  const cert = m.pki
    ? "{ pki: { file: client.pfx, password: { env: PFX_PW } } }"
    : `{ selfSigned: { start: ${isoDate(today - 10 * DAY)}, expire: ${isoDate(today + 365 * DAY)} } }`;
  return `name: ${m.name}
bootImage: [BM100086, BM100064]
taskSequence: BM200010
contentLibrary: ${REFERENCE_LIBRARY_DIR}
target: { type: ${m.kind}, output: out/${m.name}.${m.kind === "iso" ? "iso" : "img"} }
unattended: ${m.unattended}
managementPoints:
  mode: ${m.mode}
  list:
${list}
security:
  unknownComputers: ${m.unknownComputers}
  userDeviceAffinity: pending
  password: { env: MEDIA_PW }
  certificate: ${cert}
customization:
  variables: { OSDTimeZone: "UTC" }
`;
}

/** A site: the guest's MAC known or not, an optional MAC boundary for MP2, the media certificates registered. */
function siteWith(opts: { known: boolean; boundaryMp2?: boolean }, certs: Buffer[]): SiteInput {
  return {
    siteCode: "BM1",
    managementPoints: ["MP1", "MP2"],
    computers: opts.known ? [{ name: "PC-GUEST", mac: GUEST.mac }] : [{ name: "PC-OTHER", mac: "52:54:00:00:00:01" }],
    boundaries: opts.boundaryMp2 ? [{ mp: "MP2", ipRanges: [], macs: [GUEST.mac] }] : [],
    taskSequences: [{ id: "BM200010", name: "Windows 11" }],
    deployments: [
      {
        id: "DEP-UNKNOWN",
        taskSequence: "BM200010",
        target: "unknown",
        variables: { OSDTimeZone: "UTC", OSDUnknown: "yes" },
      },
      { id: "DEP-ALL", taskSequence: "BM200010", target: "all", variables: { OSDComputerName: "from-site" } },
    ],
    certificates: certs.map((der) => ({ der: der.toString("base64") })),
  };
}

/** media.json read back by an independent reader: osirrox for ISO, mtools for the USB image's FAT partition. */
function readMediaJson(path: string, kind: "iso" | "usb", scratch: string): MpMediaSettings {
  const out = join(scratch, `media-${kind}-${Math.random().toString(16).slice(2)}.json`);
  if (kind === "iso") {
    execFileSync("osirrox", ["-indev", path, "-extract", "/bootmedia/media.json", out], { stdio: "pipe" });
  } else {
    const table = JSON.parse(execFileSync("sfdisk", ["-J", path], { encoding: "utf8" })) as {
      partitiontable: { sectorsize?: number; partitions: Array<{ start: number }> };
    };
    const offset = table.partitiontable.partitions[0]!.start * (table.partitiontable.sectorsize ?? 512);
    execFileSync("mcopy", ["-n", "-i", `${path}@@${offset}`, "::/bootmedia/media.json", out], { stdio: "pipe" });
  }
  return JSON.parse(readFileSync(out, "utf8")) as MpMediaSettings;
}

interface SiteCase {
  label: string;
  profile: ProfileId;
  media: MediaUnderTest;
  settings: MpMediaSettings;
  mps: CaseManagementPoints;
  answers: Record<string, string[]>;
  /** Null: the case must never reach an MP (wrong password). */
  expected: ExpectedMpOutcome | null;
  pkiIssuers?: string[];
}

function failureOf(e: ExpectedMpOutcome): ExpectedFailure | undefined {
  if (e.result === "policy") return undefined;
  if (e.result === null) return "no-mp-reachable";
  if (e.result === "unknown-computer" || e.result === "no-deployment" || e.result === "certificate-rejected")
    return e.result;
  throw new Error(`no boot outcome for MP result ${e.result}`);
}

let work: string;
const cases: SiteCase[] = [];
const results = new Map<string, CaseResult>();
const reportDirs = new Map<string, string>();

beforeAll(async () => {
  await referenceImages();
  work = await mkdtemp(join(tmpdir(), "bm-site-"));
  // The PKI first: the build checks the .pfx certificate at SOURCE_DATE_EPOCH, which must not precede it.
  const pki = makePki(work, "siteca");
  const mpServer: CertFiles = pki.issue("mp1", "server");
  const client = pki.issue("media-pki", "client");
  const now = Math.floor(Date.now() / 1000) + 5;
  const today = now - (now % DAY);
  const env = { SOURCE_DATE_EPOCH: String(now), MEDIA_PW: PASSWORD, PFX_PW: PFX_PASSWORD };

  const build = async (m: MediaDef) => {
    const dir = join(work, m.name);
    await mkdir(dir, { recursive: true });
    if (m.pki) {
      execFileSync(
        "openssl",
        [
          "pkcs12",
          "-export",
          "-in",
          client.certPath,
          "-inkey",
          client.keyPath,
          "-certfile",
          pki.ca.certPath,
          "-out",
          join(dir, "client.pfx"),
          "-passout",
          `pass:${PFX_PASSWORD}`,
        ],
        { stdio: "pipe" },
      );
    }
    await writeFile(join(dir, "spec.yaml"), specText(m, today));
    const out = join(dir, `${m.name}.${m.kind === "iso" ? "iso" : "img"}`);
    const r = await bootmedia(["build", join(dir, "spec.yaml"), "--out", out, "--quiet"], { env, cwd: dir });
    if (r.exitCode !== 0) throw new Error(`building ${m.name} failed: ${r.stderr}`);
    const cer = join(dir, `${m.name}.cer`);
    const der = existsSync(cer) ? new X509Certificate(readFileSync(cer)).raw : undefined;
    return { media: await describeMedia(out, m.name), settings: readMediaJson(out, m.kind, work), der };
  };
  const [siteIso, dynUsb, pkiIso, interactiveIso] = await Promise.all([
    build({
      name: "site-iso",
      kind: "iso",
      unattended: true,
      unknownComputers: false,
      mode: "site-based",
      mps: ["http://10.0.2.100"],
    }),
    build({
      name: "dynamic-usb",
      kind: "usb",
      unattended: true,
      unknownComputers: true,
      mode: "dynamic",
      mps: ["http://10.0.2.100", "http://10.0.2.101"],
    }),
    build({
      name: "pki-iso",
      kind: "iso",
      unattended: true,
      unknownComputers: false,
      mode: "site-based",
      mps: ["https://10.0.2.100"],
      pki: true,
    }),
    build({
      name: "interactive-iso",
      kind: "iso",
      unattended: false,
      unknownComputers: false,
      mode: "site-based",
      mps: ["http://10.0.2.100"],
    }),
  ]);
  const certs = [siteIso, dynUsb, interactiveIso].map((b) => b.der!);
  const tls = { cert: mpServer.certPem, key: mpServer.keyPem, ca: pki.ca.certPem };
  const up = (...names: string[]) => ["MP1", "MP2"].map((name) => ({ name, up: names.includes(name) }));
  const expiredAt = Math.floor(Date.parse(siteIso.settings.certificate!.notAfter) / 1000) + DAY;
  const add = (
    label: string,
    profile: ProfileId,
    built: typeof siteIso,
    site: SiteInput,
    mps: CaseManagementPoints["mps"],
    opts: { now?: number; answers?: Record<string, string[]>; pkiIssuers?: string[]; neverAsk?: boolean } = {},
  ) => {
    const parsed = parseSite(site);
    const guestMps = mps.flatMap((mp, i) =>
      mp.up ? [{ name: mp.name, url: `${mp.tls ? "https" : "http"}://10.0.2.${100 + i}` }] : [],
    );
    const expected = opts.neverAsk
      ? null
      : expectMpOutcome(
          built.settings,
          parsed,
          { mps: guestMps, pkiIssuers: opts.pkiIssuers },
          GUEST,
          opts.now ?? Math.floor(Date.now() / 1000),
        );
    const caseMps: CaseManagementPoints = { site: parsed, mps, ...(opts.now ? { now: () => opts.now! } : {}) };
    const answers = opts.answers ?? { password: [PASSWORD] };
    const expectFailure = expected ? failureOf(expected) : "wrong-password";
    cases.push({
      label,
      profile,
      settings: built.settings,
      mps: caseMps,
      answers,
      expected,
      media: { ...built.media, label, answers, managementPoints: caseMps, ...(expectFailure ? { expectFailure } : {}) },
    });
  };
  add("known-computer", "x64-bios", siteIso, siteWith({ known: true }, certs), up("MP1"));
  add("unknown-refused", "x64-bios", siteIso, siteWith({ known: false }, certs), up("MP1"));
  add("site-mp-down", "x64-bios", siteIso, siteWith({ known: true }, certs), up());
  add("expired-certificate", "x64-bios", siteIso, siteWith({ known: true }, certs), up("MP1"), { now: expiredAt });
  add("wrong-password", "x64-bios", siteIso, siteWith({ known: true }, certs), up("MP1"), {
    answers: { password: ["Wrong-1", "Wrong-2", "Wrong-3"] },
    neverAsk: true,
  });
  add("pki-mutual-tls", "x64-bios", pkiIso, siteWith({ known: true }, certs), [{ name: "MP1", up: true, tls }], {
    pkiIssuers: [pki.ca.issuer],
  });
  add("unknown-allowed", "x86-bios", dynUsb, siteWith({ known: false }, certs), up("MP1", "MP2"));
  add("first-mp-down", "x86-bios", dynUsb, siteWith({ known: true }, certs), up("MP2"));
  add("boundary-redirect", "x86-bios", dynUsb, siteWith({ known: true, boundaryMp2: true }, certs), up("MP1", "MP2"));
  add("interactive", "x86-bios", interactiveIso, siteWith({ known: true }, certs), up("MP1"), {
    answers: { password: [PASSWORD], network: ["static ip=10.0.2.15/24 gw=10.0.2.2"], "task-sequence": [""] },
  });

  for (const profile of ["x64-bios", "x86-bios"] as const) {
    const reportDir = join(work, `report-${profile}`);
    const report = await runTestbed({
      media: cases.filter((c) => c.profile === profile).map((c) => c.media),
      profiles: [profile],
      nics: ["e1000"],
      concurrency: 2,
      reportDir,
    });
    for (const r of report.cases) {
      results.set(r.media.label, r);
      reportDirs.set(r.media.label, reportDir);
    }
  }
}, 900_000);

const markersOf = (c: CaseResult, event: string) => c.markers.filter((m) => m.event === event);
const policyPosts = (r: CaseResult) =>
  (r.managementPoints ?? []).flatMap((mp) =>
    mp.requests.filter((q) => q.path.endsWith("/policy")).map((q) => ({ mp: mp.guestUrl, ...q })),
  );

describe("site simulation: media ask the management points for their policy (x64-bios ISO, x86-bios USB)", () => {
  it("every case ends as expectMpOutcome predicts (pass for policy, the MP's refusal otherwise)", () => {
    const summary = [...results.values()]
      .map((r) => `${r.id}: expected ${JSON.stringify(r.expected)} got ${JSON.stringify(r.actual)}`)
      .join("\n");
    expect(results.size, summary).toBe(cases.length);
    for (const r of results.values()) expect(r.ok, summary).toBe(true);
  });

  it("the agent's policy or error marker says what the MPs answered, contact by contact", () => {
    for (const c of cases.filter((x) => x.expected)) {
      const r = results.get(c.label)!;
      const e = c.expected!;
      const where = `${c.label}: ${JSON.stringify(r.markers.slice(-3))}`;
      if (e.policy) {
        const [policy] = markersOf(r, "policy");
        expect(policy, where).toMatchObject({
          taskSequence: e.policy.taskSequence,
          deployment: e.policy.deploymentId,
          computer: e.policy.computer,
          mp: e.contacts.at(-1),
          mpName: e.policy.mp,
          contacts: e.contacts,
        });
        expect([...(policy!.variables as string[])].sort(), where).toEqual(Object.keys(e.policy.variables).sort());
        expect(r.markers.at(-1)).toEqual({ event: "done" });
      } else {
        const [error] = markersOf(r, "error");
        expect(error, where).toMatchObject({
          reason: failureOf(e),
          contacts: e.contacts,
          ...(e.why ? { why: e.why } : {}),
        });
        expect(markersOf(r, "policy"), where).toEqual([]);
      }
    }
  });

  it("the MPs' request logs hold exactly the expected contacts, from the guest's MAC, with the expected answers", () => {
    for (const c of cases.filter((x) => x.expected)) {
      const r = results.get(c.label)!;
      const e = c.expected!;
      const posts = policyPosts(r);
      const reached = e.contacts.filter((url) => r.managementPoints!.some((mp) => mp.up && mp.guestUrl === url));
      expect(
        posts.map((p) => p.mp),
        c.label,
      ).toEqual(reached);
      for (const p of posts) expect(p.client.mac, c.label).toBe(GUEST.mac);
      if (e.result)
        expect(posts.at(-1), c.label).toMatchObject({
          status: e.status,
          result: e.result,
          ...(e.why ? { why: e.why } : {}),
        });
    }
    expect(policyPosts(results.get("boundary-redirect")!).map((p) => p.result)).toEqual(["redirect", "policy"]);
    expect(policyPosts(results.get("first-mp-down")!).map((p) => p.mp)).toEqual(["http://10.0.2.101"]);
  });

  it("a wrong password never reaches an MP: the request log stays empty", () => {
    const r = results.get("wrong-password")!;
    expect(r.actual).toMatchObject({ status: "fail", reason: "wrong-password" });
    expect(r.managementPoints?.map((mp) => [mp.name, mp.up])).toEqual([
      ["MP1", true],
      ["MP2", false],
    ]);
    expect(r.managementPoints!.flatMap((mp) => mp.requests)).toEqual([]);
    expect(markersOf(r, "policy")).toEqual([]);
  });

  it("interactive media ask the network and task sequence first; unattended ones only the password", () => {
    expect(results.get("interactive")!.prompts?.map((p) => p.for)).toEqual(["password", "network", "task-sequence"]);
    expect(markersOf(results.get("interactive")!, "network")).toMatchObject([
      { mode: "static", address: "10.0.2.15/24", applied: true },
    ]);
    expect(results.get("known-computer")!.prompts?.map((p) => p.for)).toEqual(["password"]);
    expect(markersOf(results.get("unknown-allowed")!, "media")).toMatchObject([{ fs: "vfat" }]);
  });

  it("each MP's request log is in the case folder and in results.json", () => {
    const r = results.get("known-computer")!;
    const dir = reportDirs.get("known-computer")!;
    const file = JSON.parse(readFileSync(join(dir, r.managementPoints![0]!.log), "utf8")) as { requests: unknown[] };
    expect(file.requests).toEqual(r.managementPoints![0]!.requests);
    const saved = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as { cases: CaseResult[] };
    expect(saved.cases.find((x) => x.id === r.id)?.managementPoints?.[0]?.requests).toHaveLength(1);
    expect(readFileSync(join(dir, "index.html"), "utf8")).toContain("POST /bootmedia/v1/policy");
  });
});
