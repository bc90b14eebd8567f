/**
 * The shell agent (plugins/boot-image/agent/lib/bootmedia-mp.sh) under busybox sh with the openssl CLI, as the boot
 * environment runs it: signatures made by `openssl dgst -sha256 -sign`, requests by busybox
 * wget; mutual TLS proven with curl --cert and openssl s_client. Expected answers come from
 * expectMpOutcome.
 */
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectMpOutcome, type MpClientFacts, type MpMediaSettings } from "./expect.ts";
import { MP_AGENT_SCRIPT } from "../../plugins/boot-image/agent-files.ts";
import { MP_PATHS } from "../../backends/mp/protocol.ts";
import { startManagementPoint, type RunningMp } from "../../backends/mp/server.ts";
import type { Site } from "../../backends/mp/site.ts";
import {
  MAC,
  makeMediaSettings,
  makePki,
  startSiteFixture,
  type CertFiles,
  type SiteFixture,
} from "./testing/fixtures.ts";

const SCRIPT = MP_AGENT_SCRIPT;
const EXIT = { policy: 0, "unknown-computer": 3, "no-deployment": 4, "certificate-rejected": 5 } as Record<
  string,
  number
>;
let fx: SiteFixture;
let dir: string, bin: string;
let media: CertFiles, stranger: CertFiles;
let site: Site;
let mp1: RunningMp, mp2: RunningMp;

beforeAll(async () => {
  fx = await startSiteFixture("bm-mp-agent-");
  ({ dir, bin, media, stranger, site, mp1, mp2 } = fx);
});
afterAll(async () => fx?.close());

/**
 * Runs the shell agent like the boot environment would, with media.env-style variables.
 * Asynchronously: the simulator answers from this same process, a sync spawn would deadlock.
 */
async function runAgent(settings: MpMediaSettings, client: MpClientFacts, env: Record<string, string>) {
  const mps = [...settings.managementPoints.list].sort((a, b) => a.priority - b.priority).map((m) => m.url);
  const r = await execa("/bin/busybox", ["sh", SCRIPT], {
    reject: false,
    timeout: 60_000,
    extendEnv: false,
    env: {
      PATH: bin,
      BM_MEDIA_ID: settings.id,
      BM_TASK_SEQUENCE: settings.taskSequence,
      BM_MP_MODE: settings.managementPoints.mode,
      BM_MPS: mps.join(" "),
      BM_UNKNOWN_COMPUTERS: String(settings.unknownComputers),
      BM_UDA: settings.userDeviceAffinity,
      BM_CLIENT_MAC: client.mac,
      ...(client.ip ? { BM_CLIENT_IP: client.ip } : {}),
      BM_CLIENT_UUID: client.uuid ?? "",
      ...env,
    },
  });
  return { status: r.exitCode, answer: r.stdout.trim() ? JSON.parse(r.stdout.trim()) : null, stderr: r.stderr };
}

describe("shell agent (busybox sh + openssl CLI) against the simulator", () => {
  const network = () => ({
    mps: [
      { name: "MP1", url: mp1.url },
      { name: "MP2", url: mp2.url },
    ],
  });
  const signedBy = (c: CertFiles) => ({ BM_MEDIA_KEY: c.keyPem, BM_MEDIA_CERT: media.certPath });

  it.each([
    { name: "policy for a known computer", over: {}, client: { mac: MAC.known }, key: () => media },
    {
      name: "403 unknown-computer: the 4xx body is read (raw HTTP over nc)",
      over: {},
      client: { mac: MAC.unknown },
      key: () => media,
    },
    {
      name: "redirect followed to the boundary's MP",
      over: { dynamic: true, unknownComputers: true, userDeviceAffinity: "pending" as const },
      client: { mac: MAC.unknown, ip: "10.0.3.9" },
      key: () => media,
    },
    {
      name: "signature by another key is rejected",
      over: {},
      client: { mac: MAC.known, signature: "bad" as const },
      key: () => stranger,
    },
  ])("$name", async ({ over, client, key }) => {
    const { dynamic, ...rest } = over as { dynamic?: boolean } & Partial<MpMediaSettings>;
    const list = [
      { url: mp1.url, priority: 1 },
      { url: mp2.url, priority: 2 },
    ];
    const settings = makeMediaSettings(media, {
      mps: [mp1.url],
      ...rest,
      ...(dynamic ? { managementPoints: { mode: "dynamic" as const, list } } : {}),
    });
    const expected = expectMpOutcome(settings, site, network(), client, Math.floor(Date.now() / 1000));
    const before = mp1.requests.length + mp2.requests.length;
    const run = await runAgent(settings, client, signedBy(key()));
    expect(run.answer?.result, run.stderr).toBe(expected.result);
    expect(run.status).toBe(EXIT[expected.result!]);
    if (expected.policy) expect(run.answer).toEqual({ result: "policy", ...expected.policy });
    const decider = [mp1, mp2].find((m) => m.url === expected.contacts.at(-1))!;
    expect(decider.requests.at(-1)).toMatchObject({
      status: expected.status,
      result: expected.result,
      ...(expected.why ? { why: expected.why } : {}),
    });
    expect(mp1.requests.length + mp2.requests.length - before).toBe(expected.contacts.length);
  });

  it("unsigned requests are refused; no MP reachable exits 7", async () => {
    const settings = makeMediaSettings(null, { mps: [mp1.url] });
    const run = await runAgent(settings, { mac: MAC.known }, {});
    expect(run).toMatchObject({ status: 5, answer: { result: "certificate-rejected" } });
    expect(mp1.requests.at(-1)).toMatchObject({ why: "missing-signature" });
    expect(
      (await runAgent(makeMediaSettings(media, { mps: ["http://127.0.0.1:9"] }), { mac: MAC.known }, signedBy(media)))
        .status,
    ).toBe(7);
  });
});

describe("PKI mode: HTTPS with mutual TLS", () => {
  let pki: ReturnType<typeof makePki>, other: ReturnType<typeof makePki>;
  let server: CertFiles, client: CertFiles, rogue: CertFiles;
  let mps: RunningMp;

  beforeAll(async () => {
    pki = makePki(dir, "siteca");
    other = makePki(dir, "otherca");
    server = pki.issue("mp1", "server");
    client = pki.issue("media-pki", "client");
    rogue = other.issue("rogue", "client");
    mps = await startManagementPoint({
      site,
      name: "MP1",
      tls: { cert: server.certPem, key: server.keyPem, ca: pki.ca.certPem },
    });
  });
  afterAll(async () => mps?.close());

  const body = (mac: string) =>
    JSON.stringify({
      v: 1,
      mediaId: "contoso-x64",
      taskSequence: "BM200010",
      mode: "site-based",
      mac,
      unknownComputers: false,
      uda: "auto",
      timestamp: Math.floor(Date.now() / 1000),
      nonce: Math.random().toString(16).slice(2).padEnd(16, "0"),
    });
  const curl = async (extra: string[], mac = MAC.known) =>
    (
      await execa("curl", [
        "-sS",
        "--max-time",
        "20",
        "--cacert",
        pki.ca.certPath,
        ...extra,
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        body(mac),
        new URL(MP_PATHS.policy, mps.url).href,
      ])
    ).stdout;

  it("curl --cert: the site's client certificate gets policy, others are rejected", async () => {
    const settings = {
      ...makeMediaSettings(client, { mps: [mps.url], userDeviceAffinity: "auto" }),
      certificate: {
        mode: "pki" as const,
        sha256: client.sha256,
        issuer: client.issuer,
        notBefore: client.notBefore,
        notAfter: client.notAfter,
      },
    };
    const expected = expectMpOutcome(
      settings,
      site,
      { mps: [{ name: "MP1", url: mps.url }], pkiIssuers: [pki.ca.issuer] },
      { mac: MAC.known },
      Math.floor(Date.now() / 1000),
    );
    const ok = JSON.parse(await curl(["--cert", client.certPath, "--key", client.keyPath]));
    expect(expected.result).toBe("policy");
    expect(ok).toEqual({ result: "policy", ...expected.policy });
    expect(JSON.parse(await curl([]))).toEqual({ result: "certificate-rejected", why: "missing-certificate" });
    expect(JSON.parse(await curl(["--cert", rogue.certPath, "--key", rogue.keyPath]))).toEqual({
      result: "certificate-rejected",
      why: "untrusted",
    });
  });

  it("the shell agent speaks mutual TLS through openssl s_client", async () => {
    const settings = makeMediaSettings(client, { mps: [mps.url] });
    const run = await runAgent(
      settings,
      { mac: MAC.known },
      { BM_MEDIA_KEY: client.keyPem, BM_MEDIA_CERT: client.certPath, BM_MP_CA: pki.ca.certPath },
    );
    expect(run.answer, run.stderr).toMatchObject({ result: "policy", mp: "MP1", computer: "PC-KNOWN" });
    expect(mps.requests.at(-1)).toMatchObject({ method: "POST", status: 200, result: "policy" });
  });
});
