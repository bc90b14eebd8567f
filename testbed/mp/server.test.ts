import { createPrivateKey } from "node:crypto";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  askManagementPoint,
  buildPolicyRequest,
  postBody,
  walkManagementPoints,
  type AgentCredentials,
  type AgentMedia,
} from "../../backends/mp/client.ts";
import { expectMpOutcome, type MpClientFacts, type MpMediaSettings } from "./expect.ts";
import { MP_HEADERS, MP_PATHS, renderPolicyRequest } from "../../backends/mp/protocol.ts";
import { startManagementPoint, type RunningMp } from "../../backends/mp/server.ts";
import { parseSite, type Site } from "../../backends/mp/site.ts";
import {
  MAC,
  UUID_KNOWN,
  makeMediaSettings,
  makeSelfSignedCert,
  makeSite,
  makeTempDir,
  type CertFiles,
} from "./testing/fixtures.ts";

const DAY = 86400;
let media: CertFiles, blocked: CertFiles, stranger: CertFiles;
let site: Site;
let mp1: RunningMp, mp2: RunningMp;
let clock = 0;
let dir = "";
const DOWN = "http://127.0.0.1:9"; // discard port: nothing listens on loopback

beforeAll(async () => {
  dir = makeTempDir("bm-mp-");
  media = makeSelfSignedCert(dir, "media");
  blocked = makeSelfSignedCert(dir, "blocked");
  stranger = makeSelfSignedCert(dir, "stranger");
  site = parseSite(makeSite(media.der, blocked.der));
  clock = Math.floor(Date.parse(media.notBefore) / 1000) + DAY;
  mp1 = await startManagementPoint({ site, name: "MP1", now: () => clock });
  mp2 = await startManagementPoint({ site, name: "MP2", now: () => clock });
  // Host-side clients reach the peers at their loopback URLs (guests get 10.0.2.x: network.ts).
  for (const mp of [mp1, mp2]) mp.peers.set("MP1", mp1.url).set("MP2", mp2.url);
});
afterAll(async () => {
  await mp1?.close();
  await mp2?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function agentMedia(s: MpMediaSettings): AgentMedia {
  return {
    id: s.id,
    taskSequence: s.taskSequence,
    mode: s.managementPoints.mode,
    mps: [...s.managementPoints.list].sort((a, b) => a.priority - b.priority).map((m) => m.url),
    unknownComputers: s.unknownComputers,
    uda: s.userDeviceAffinity,
  };
}

function creds(cert: CertFiles, signer: CertFiles = cert): AgentCredentials {
  return { certDer: cert.der, key: createPrivateKey(signer.keyPem) };
}

interface Case {
  name: string;
  settings: () => MpMediaSettings;
  client: MpClientFacts;
  creds: () => AgentCredentials | null;
  at?: () => number;
}

const cases: Case[] = [
  {
    name: "known computer by MAC gets its deployment",
    settings: () => makeMediaSettings(media, { mps: [mp1.url] }),
    client: { mac: MAC.known },
    creds: () => creds(media),
  },
  {
    name: "known computer by SMBIOS UUID",
    settings: () => makeMediaSettings(media, { mps: [mp1.url] }),
    client: { mac: MAC.unknown, uuid: UUID_KNOWN },
    creds: () => creds(media),
  },
  {
    name: "unknown computer allowed by the media",
    settings: () => makeMediaSettings(media, { mps: [mp1.url], unknownComputers: true, userDeviceAffinity: "pending" }),
    client: { mac: MAC.unknown },
    creds: () => creds(media),
  },
  {
    name: "unknown computer refused",
    settings: () => makeMediaSettings(media, { mps: [mp1.url] }),
    client: { mac: MAC.unknown },
    creds: () => creds(media),
  },
  {
    name: "dynamic media redirected by IP boundary",
    settings: () =>
      makeMediaSettings(media, {
        mps: [mp1.url, mp2.url],
        managementPoints: {
          mode: "dynamic",
          list: [
            { url: mp1.url, priority: 1 },
            { url: mp2.url, priority: 2 },
          ],
        },
        userDeviceAffinity: "auto",
      }),
    client: { mac: MAC.known, ip: "10.0.3.7" },
    creds: () => creds(media),
  },
  {
    name: "dynamic media redirected by MAC boundary",
    settings: () =>
      makeMediaSettings(media, {
        mps: [mp1.url],
        managementPoints: { mode: "dynamic", list: [{ url: mp1.url, priority: 1 }] },
        unknownComputers: true,
      }),
    client: { mac: MAC.inMp2Boundary, ip: "10.0.2.15" },
    creds: () => creds(media),
  },
  {
    name: "site-based media are never redirected",
    settings: () => makeMediaSettings(media, { mps: [mp1.url] }),
    client: { mac: MAC.known, ip: "10.0.3.7" },
    creds: () => creds(media),
  },
  {
    name: "priority order: the first MP is down, the second answers",
    settings: () =>
      makeMediaSettings(media, {
        mps: [DOWN, mp2.url],
        managementPoints: {
          mode: "dynamic",
          list: [
            { url: mp2.url, priority: 5 },
            { url: DOWN, priority: 1 },
          ],
        },
      }),
    client: { mac: MAC.known },
    creds: () => creds(media),
  },
  {
    name: "task sequence without a deployment",
    settings: () => makeMediaSettings(media, { mps: [mp1.url], taskSequence: "BM200099" }),
    client: { mac: MAC.known },
    creds: () => creds(media),
  },
  {
    name: "unregistered certificate",
    settings: () => makeMediaSettings(stranger, { mps: [mp1.url] }),
    client: { mac: MAC.known },
    creds: () => creds(stranger),
  },
  {
    name: "blocked certificate",
    settings: () => makeMediaSettings(blocked, { mps: [mp1.url] }),
    client: { mac: MAC.known },
    creds: () => creds(blocked),
  },
  {
    name: "signature by another key",
    settings: () => makeMediaSettings(media, { mps: [mp1.url] }),
    client: { mac: MAC.known, signature: "bad" },
    creds: () => creds(media, stranger),
  },
  {
    name: "expired certificate",
    settings: () => makeMediaSettings(media, { mps: [mp1.url] }),
    client: { mac: MAC.known },
    creds: () => creds(media),
    at: () => Date.parse(media.notAfter) / 1000 + DAY,
  },
  {
    name: "not yet valid certificate",
    settings: () => makeMediaSettings(media, { mps: [mp1.url] }),
    client: { mac: MAC.known },
    creds: () => creds(media),
    at: () => Date.parse(media.notBefore) / 1000 - DAY,
  },
  {
    name: "media without a certificate",
    settings: () => makeMediaSettings(null, { mps: [mp1.url] }),
    client: { mac: MAC.known },
    creds: () => null,
  },
];

describe("management-point simulator against expectMpOutcome (node agent)", () => {
  it.each(cases)("$name", async (c) => {
    clock = Math.floor(c.at?.() ?? Date.parse(media.notBefore) / 1000 + DAY);
    const settings = c.settings();
    const network = {
      mps: [
        { name: "MP1", url: mp1.url },
        { name: "MP2", url: mp2.url },
      ],
    };
    const expected = expectMpOutcome(settings, site, network, c.client, clock);
    const walk = await walkManagementPoints(agentMedia(settings), c.client, c.creds(), clock);
    expect(walk.contacts.map((x) => x.url)).toEqual(expected.contacts);
    expect(walk.final?.answer?.result ?? null).toBe(expected.result);
    expect(walk.final?.status ?? null).toBe(expected.status);
    if (expected.why) expect(walk.final?.answer).toMatchObject({ why: expected.why });
    if (expected.policy) expect(walk.final?.answer).toEqual({ result: "policy", ...expected.policy });
  });

  it("covers every decision the protocol documents", () => {
    const network = {
      mps: [
        { name: "MP1", url: mp1.url },
        { name: "MP2", url: mp2.url },
      ],
    };
    const seen = new Set(
      cases.map((c) => {
        const e = expectMpOutcome(
          c.settings(),
          site,
          network,
          c.client,
          Math.floor(c.at?.() ?? Date.parse(media.notBefore) / 1000 + DAY),
        );
        return e.why ?? `${e.result}${e.contacts.length > 1 ? "+hop" : ""}`;
      }),
    );
    for (const d of [
      "policy",
      "policy+hop",
      "unknown-computer",
      "no-deployment",
      "unregistered",
      "blocked",
      "bad-signature",
      "expired",
      "not-yet-valid",
      "missing-signature",
    ]) {
      expect(seen, d).toContain(d);
    }
  });
});

describe("request hygiene", () => {
  const settings = () => agentMedia(makeMediaSettings(media, { mps: [mp1.url] }));

  it("refuses a replayed nonce and a stale timestamp, and logs every request", async () => {
    clock = Math.floor(Date.parse(media.notBefore) / 1000) + DAY;
    const body = Buffer.from(renderPolicyRequest(buildPolicyRequest(settings(), { mac: MAC.known }, clock)));
    const c = creds(media);
    const { createSign, createHash } = await import("node:crypto");
    const headers = {
      [MP_HEADERS.signature]: createSign("sha256").update(body).sign(c.key).toString("base64"),
      [MP_HEADERS.certificate]: createHash("sha256").update(media.der).digest("hex"),
    };
    expect((await postBody(mp1.url, body, headers, c)).answer).toMatchObject({ result: "policy" });
    expect((await postBody(mp1.url, body, headers, c)).answer).toEqual({
      result: "bad-request",
      why: "replayed-nonce",
    });
    const stale = await askManagementPoint(mp1.url, settings(), { mac: MAC.known }, c, clock - 3600);
    expect(stale).toMatchObject({ status: 400, answer: { result: "bad-request", why: "stale-timestamp" } });
    const tampered = Buffer.from(body.toString().replace(MAC.known, MAC.unknown));
    expect((await postBody(mp1.url, tampered, headers, c)).answer).toEqual({
      result: "certificate-rejected",
      why: "bad-signature",
    });
    const log = mp1.requests.slice(-4);
    expect(log.map((r) => [r.method, r.path, r.status, r.result, r.why])).toEqual([
      ["POST", MP_PATHS.policy, 200, "policy", undefined],
      ["POST", MP_PATHS.policy, 400, "bad-request", "replayed-nonce"],
      ["POST", MP_PATHS.policy, 400, "bad-request", "stale-timestamp"],
      ["POST", MP_PATHS.policy, 403, "certificate-rejected", "bad-signature"],
    ]);
    expect(log[0]!.client).toEqual({ address: "127.0.0.1", mac: MAC.known, uuid: undefined, ip: undefined });
  });

  it("answers malformed bodies, unknown paths and ping with protocol results", async () => {
    const bad = await postBody(mp1.url, Buffer.from('{"v":2}'), {}, null);
    expect(bad).toMatchObject({ status: 400, answer: { result: "bad-request", why: "malformed" } });
    const ping = await fetch(new URL(MP_PATHS.ping, mp1.url));
    expect(ping.headers.get(MP_HEADERS.result)).toBe("pong");
    expect(await ping.text()).toBe('{"result":"pong","mp":"MP1","v":1}\n');
    expect((await fetch(new URL("/other", mp1.url))).status).toBe(404);
  });

  it("binds loopback only and checks its site database", async () => {
    await expect(
      startManagementPoint({ site, name: "MP1", host: "0.0.0.0", loopbackOnly: true }),
    ).rejects.toMatchObject({
      code: "BM5301",
    });
    await expect(startManagementPoint({ site, name: "MP9" })).rejects.toMatchObject({ code: "BM5302" });
    expect(() => parseSite({ ...makeSite(media.der, blocked.der), boundaries: [{ mp: "MPX", ipRanges: [] }] })).toThrow(
      /unknown management point MPX/,
    );
    expect(() => parseSite({ siteCode: "x", managementPoints: ["MP1"] })).toThrow(
      expect.objectContaining({ code: "BM5302" }),
    );
  });
});
