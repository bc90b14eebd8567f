/**
 * Report keys (docs/mp-protocol.md "Report keys"): a key sent with the policy request later
 * signs status and log requests of that deployment in place of the media key. The key and
 * every signature come from the openssl CLI, the way the installed OS makes and uses them, and
 * curl posts them: nothing on the client side is node's crypto.
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askManagementPoint, postStatus } from "./client.ts";
import { readJournal } from "./journal.ts";
import { MP_PATHS, renderLogRequest, renderStatusRequest, type StatusRequest } from "./protocol.ts";
import { startManagementPoint, type RunningMp, type StartMpOptions } from "./server.ts";
import { makePki, type CertFiles } from "./testing/certs.ts";
import { MAC, makeMedia, makeMediaCert, makeSite, makeTempDir, type MediaCert } from "./testing/fixtures.ts";

const OTHER_MAC = "52:54:00:00:00:42";
const RUN = "00112233445566aa";
const sh = (script: string, cwd: string) => execFileSync("sh", ["-c", script], { cwd }).toString();

let dir = "";
let cert: MediaCert;
let clock = 0;
let nonceCounter = 0;

/** A report key as the agent draws it, with the two forms the protocol names, all by openssl. */
interface OpensslKey {
  pem: string;
  spki: string;
  sha256: string;
}
function drawKey(name: string): OpensslKey {
  const pem = join(dir, `${name}.pem`);
  sh(`openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "${pem}"`, dir);
  return {
    pem,
    spki: sh(`openssl pkey -in "${pem}" -pubout -outform DER | base64 -w0`, dir),
    sha256: sh(`openssl pkey -in "${pem}" -pubout -outform DER | sha256sum | cut -d ' ' -f 1`, dir).trim(),
  };
}

const nextNonce = () => (++nonceCounter).toString(16).padStart(32, "0");

function statusBody(over: Partial<StatusRequest> = {}): string {
  return renderStatusRequest({
    v: 1,
    mac: MAC,
    deploymentId: "DEP-1",
    run: RUN,
    seq: 10,
    step: 0,
    of: 3,
    name: "Installed OS",
    state: "deployed",
    message: "PC-1 booted from disk: uefi, Secure Boot on",
    timestamp: clock,
    nonce: nextNonce(),
    ...over,
  });
}

/** Signs the body with openssl (`dgst -sha256 -sign … | base64 -w0`) and posts it with curl. */
async function postSigned(
  url: string,
  path: string,
  body: string,
  signer: OpensslKey,
  named: OpensslKey = signer,
  curlArgs: string[] = [],
): Promise<{ status: number; answer: unknown }> {
  const file = join(dir, `body-${nonceCounter}-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, body);
  const signature = sh(`openssl dgst -sha256 -sign "${signer.pem}" "${file}" | base64 -w0`, dir);
  const { stdout } = await promisify(execFile)("curl", [
    "-sS",
    "-w",
    "\n%{http_code}",
    ...curlArgs,
    "-H",
    "content-type: application/json",
    "-H",
    `X-Bootmedia-Signature: ${signature}`,
    "-H",
    `X-Bootmedia-Report-Key-Sha256: ${named.sha256}`,
    "--data-binary",
    `@${file}`,
    `${url}${path}`,
  ]);
  const lines = stdout.split("\n");
  return { status: Number(lines.at(-1)), answer: JSON.parse(lines[0]!) };
}

async function askPolicy(mp: RunningMp, mac: string, reportKey?: string, taskSequence = "TS-1") {
  const media = { ...makeMedia(mp.url), taskSequence };
  const c = await askManagementPoint(mp.url, media, { mac, reportKey }, cert.creds, clock);
  return c.answer;
}

const SECOND_TS = { id: "TS-2", name: "One step", steps: [{ name: "A", type: "run-command", command: "true" }] };
const SITE_EXTRA = {
  taskSequences: [
    {
      id: "TS-1",
      name: "Three steps",
      steps: [
        { name: "A", type: "run-command", command: "true" },
        { name: "B", type: "run-command", command: "true" },
        { name: "C", type: "run-command", command: "true" },
      ],
    },
    SECOND_TS,
  ],
  deployments: [
    { id: "DEP-1", taskSequence: "TS-1", target: "unknown" as const },
    { id: "DEP-2", taskSequence: "TS-2", target: "unknown" as const },
  ],
};

let keyA: OpensslKey;
let keyB: OpensslKey;
let stranger: OpensslKey;

beforeAll(() => {
  dir = makeTempDir("bm-mp-rk-");
  cert = makeMediaCert(dir);
  clock = cert.notBefore + 3600;
  keyA = drawKey("a");
  keyB = drawKey("b");
  stranger = drawKey("stranger");
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function startMp(extra: Partial<StartMpOptions> = {}): Promise<RunningMp> {
  return startManagementPoint({
    site: makeSite(cert.der, SITE_EXTRA),
    name: "MP1",
    now: () => clock,
    ...extra,
  });
}

describe("report keys over http", () => {
  let mp: RunningMp;
  const stateDir = () => join(dir, "state");
  beforeAll(async () => {
    mp = await startMp({ stateDir: stateDir() });
    expect(await askPolicy(mp, MAC, keyA.spki)).toMatchObject({ result: "policy", deploymentId: "DEP-1" });
    expect(await askPolicy(mp, MAC, undefined, "TS-2")).toMatchObject({ result: "policy", deploymentId: "DEP-2" });
    expect(await askPolicy(mp, OTHER_MAC, keyB.spki)).toMatchObject({ result: "policy", deploymentId: "DEP-1" });
  });
  afterAll(async () => {
    await mp?.close();
  });

  it("journals the key with the policy it came with, exactly as sent", async () => {
    const { records } = await readJournal(join(stateDir(), "journal.jsonl"));
    const policies = (records as Array<{ t: string; mac: string; deploymentId: string; reportKey?: string }>).filter(
      (r) => r.t === "policy",
    );
    expect(policies.map((p) => [p.mac, p.deploymentId, p.reportKey])).toEqual([
      [MAC, "DEP-1", keyA.spki],
      [MAC, "DEP-2", undefined],
      [OTHER_MAC, "DEP-1", keyB.spki],
    ]);
    // A policy without a key is the record it was before keys existed: no reportKey member at all.
    expect(readFileSync(join(stateDir(), "journal.jsonl"), "utf8").split("\n")[1]).not.toContain("reportKey");
  });

  it("accepts a deployed event signed by openssl with the key, and the very same body again as a duplicate", async () => {
    const body = statusBody();
    const first = await postSigned(mp.url, MP_PATHS.status, body, keyA);
    expect(first).toEqual({ status: 200, answer: { result: "accepted", seq: 10 } });
    expect(await postSigned(mp.url, MP_PATHS.status, body, keyA)).toEqual({
      status: 200,
      answer: { result: "duplicate", seq: 10 },
    });
    expect(mp.state.events().filter((e) => e.seq === 10)).toHaveLength(1);
  });

  it("accepts the pending log signed with the key", async () => {
    const log = Buffer.from("engine log\n");
    const body = renderLogRequest({
      v: 1,
      mac: MAC,
      deploymentId: "DEP-1",
      run: RUN,
      timestamp: clock,
      nonce: nextNonce(),
      log: log.toString("base64"),
    });
    expect(await postSigned(mp.url, MP_PATHS.log, body, keyA)).toEqual({
      status: 200,
      answer: { result: "accepted", bytes: log.length },
    });
    expect((await mp.state.readLog(MAC, "DEP-1", RUN))?.toString()).toBe("engine log\n");
  });

  it("refuses a replayed nonce and a stale timestamp, like media-signed requests", async () => {
    const used = statusBody({ seq: 11, state: "success", name: "done" });
    expect((await postSigned(mp.url, MP_PATHS.status, used, keyA)).answer).toEqual({ result: "accepted", seq: 11 });
    const nonce = JSON.parse(used).nonce as string;
    const replay = statusBody({ seq: 12, state: "success", name: "again", nonce });
    expect(await postSigned(mp.url, MP_PATHS.status, replay, keyA)).toEqual({
      status: 400,
      answer: { result: "bad-request", why: "replayed-nonce" },
    });
    const stale = statusBody({ seq: 12, timestamp: clock - 301 });
    expect((await postSigned(mp.url, MP_PATHS.status, stale, keyA)).answer).toEqual({
      result: "bad-request",
      why: "stale-timestamp",
    });
  });

  it("refuses a key never given, a signature by another key, and a body changed after signing", async () => {
    expect(await postSigned(mp.url, MP_PATHS.status, statusBody({ seq: 20 }), stranger)).toEqual({
      status: 403,
      answer: { result: "certificate-rejected", why: "unknown-report-key" },
    });
    // Signed by a stranger, naming A's key.
    expect((await postSigned(mp.url, MP_PATHS.status, statusBody({ seq: 20 }), stranger, keyA)).answer).toEqual({
      result: "certificate-rejected",
      why: "bad-signature",
    });
    // Signed by A's key over one body, another body sent.
    const file = join(dir, "signed.json");
    writeFileSync(file, statusBody({ seq: 20 }));
    const signature = sh(`openssl dgst -sha256 -sign "${keyA.pem}" "${file}" | base64 -w0`, dir);
    const { stdout } = await promisify(execFile)("curl", [
      "-sS",
      "-H",
      `X-Bootmedia-Signature: ${signature}`,
      "-H",
      `X-Bootmedia-Report-Key-Sha256: ${keyA.sha256}`,
      "--data-binary",
      statusBody({ seq: 21 }),
      `${mp.url}${MP_PATHS.status}`,
    ]);
    expect(JSON.parse(stdout)).toEqual({ result: "certificate-rejected", why: "bad-signature" });
    expect(mp.state.events().filter((e) => e.seq >= 20)).toEqual([]);
  });

  it("refuses a key given to another MAC, or to this MAC for another deployment", async () => {
    // B's key came with OTHER_MAC's policy: it cannot speak for MAC.
    expect(await postSigned(mp.url, MP_PATHS.status, statusBody({ seq: 30 }), keyB)).toEqual({
      status: 403,
      answer: { result: "certificate-rejected", why: "wrong-report-key" },
    });
    // A's key came with DEP-1: DEP-2 (given to MAC too, without a key) is not its deployment.
    expect(
      (await postSigned(mp.url, MP_PATHS.status, statusBody({ seq: 30, deploymentId: "DEP-2" }), keyA)).answer,
    ).toEqual({ result: "certificate-rejected", why: "wrong-report-key" });
    // And the key of OTHER_MAC works for OTHER_MAC.
    expect((await postSigned(mp.url, MP_PATHS.status, statusBody({ mac: OTHER_MAC, seq: 1 }), keyB)).answer).toEqual({
      result: "accepted",
      seq: 1,
    });
    expect(mp.state.events().filter((e) => e.seq === 30)).toEqual([]);
  });

  it("refuses a deployed event that is not step 0", async () => {
    const r = await postSigned(mp.url, MP_PATHS.status, statusBody({ seq: 31, step: 2 }), keyA);
    expect(r.answer).toMatchObject({
      result: "bad-request",
      why: "malformed",
      detail: expect.stringMatching(/^step: /),
    });
  });

  it.each([
    ["not base64", "%%%"],
    ["not a key", Buffer.from("hello").toString("base64")],
    [
      "an RSA key",
      () =>
        sh(
          "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null | openssl pkey -pubout -outform DER | base64 -w0",
          dir,
        ),
    ],
    [
      "a P-384 key",
      () => sh("openssl ecparam -name secp384r1 -genkey -noout | openssl pkey -pubout -outform DER | base64 -w0", dir),
    ],
    [
      "a P-256 key with a byte after it",
      () => Buffer.concat([Buffer.from(keyA.spki, "base64"), Buffer.from([0])]).toString("base64"),
    ],
  ])(
    "refuses a policy request whose reportKey is %s (bad-request malformed), and stores nothing",
    async (_what, key) => {
      const before = (await readJournal(join(stateDir(), "journal.jsonl"))).records.length;
      const spki = typeof key === "function" ? key() : key;
      const c = await askManagementPoint(
        mp.url,
        makeMedia(mp.url),
        { mac: "52:54:00:00:00:77", reportKey: spki },
        cert.creds,
        clock,
      );
      expect([c.status, c.answer]).toEqual([
        400,
        { result: "bad-request", why: "malformed", detail: expect.stringMatching(/^reportKey: /) },
      ]);
      expect((await readJournal(join(stateDir(), "journal.jsonl"))).records).toHaveLength(before);
    },
  );

  it("keeps the media certificate working for status events of a deployment given with a report key", async () => {
    const c = await postStatus(
      mp.url,
      { mac: MAC, deploymentId: "DEP-1", run: RUN, seq: 5, step: 1, of: 3, name: "A", state: "success" },
      cert.creds,
      clock,
    );
    expect(c.answer).toEqual({ result: "accepted", seq: 5 });
  });

  it("after a restart from the journal: the key still speaks for its deployment, its used nonces stay used", async () => {
    await mp.close();
    mp = await startMp({ stateDir: stateDir() });
    const body = statusBody({ seq: 40, state: "progress", name: "after restart" });
    expect(await postSigned(mp.url, MP_PATHS.status, body, keyA)).toEqual({
      status: 200,
      answer: { result: "accepted", seq: 40 },
    });
    const reused = statusBody({ seq: 41, nonce: JSON.parse(body).nonce });
    expect((await postSigned(mp.url, MP_PATHS.status, reused, keyA)).answer).toEqual({
      result: "bad-request",
      why: "replayed-nonce",
    });
    expect((await postSigned(mp.url, MP_PATHS.status, statusBody({ seq: 41 }), keyB)).answer).toEqual({
      result: "certificate-rejected",
      why: "wrong-report-key",
    });
    expect(mp.state.computers().find((c) => c.mac === MAC && c.deploymentId === "DEP-2")).toMatchObject({
      state: "running",
      deployed: null,
    });
  });
});

describe("mp status shows a deployment that reached deployed", () => {
  it("state deployed, with when and the installed OS's message", async () => {
    const mp = await startMp();
    try {
      await askPolicy(mp, MAC, keyA.spki);
      const ev = (seq: number, step: number, state: StatusRequest["state"]) =>
        postStatus(
          mp.url,
          { mac: MAC, deploymentId: "DEP-1", run: RUN, seq, step, of: 3, name: "s", state },
          cert.creds,
          clock,
        );
      await ev(1, 1, "success");
      await ev(2, 0, "success");
      expect(mp.state.computers()[0]).toMatchObject({ state: "succeeded", deployed: null });
      clock += 30;
      expect((await postSigned(mp.url, MP_PATHS.status, statusBody({ seq: 3 }), keyA)).answer).toEqual({
        result: "accepted",
        seq: 3,
      });
      expect(mp.state.computers()[0]).toMatchObject({
        state: "deployed",
        step: 1,
        deployed: { time: clock, message: "PC-1 booted from disk: uefi, Secure Boot on" },
      });
    } finally {
      await mp.close();
    }
  });
});

describe("report keys over https (mutual TLS for media, none for the installed OS)", () => {
  let pki: { ca: CertFiles; issue: (name: string, kind: "server" | "client") => CertFiles };
  let mp: RunningMp;
  let client: CertFiles;
  beforeAll(async () => {
    pki = makePki(dir, "siteca");
    const server = pki.issue("mp", "server");
    client = pki.issue("media-client", "client");
    mp = await startMp({ tls: { cert: server.certPem, key: server.keyPem, ca: pki.ca.certPem } });
    const creds = { ...cert.creds, key: client.keyPem, tls: { certPem: client.certPem, ca: pki.ca.certPem } };
    const c = await askManagementPoint(mp.url, makeMedia(mp.url), { mac: MAC, reportKey: keyA.spki }, creds, clock);
    expect(c.answer).toMatchObject({ result: "policy", deploymentId: "DEP-1" });
  });
  afterAll(async () => {
    await mp?.close();
  });

  it("takes a client without a certificate at the TLS level and judges it by the report-key headers", async () => {
    const tls = ["--cacert", pki.ca.certPath];
    expect(await postSigned(mp.url, MP_PATHS.status, statusBody({ seq: 1 }), keyA, keyA, tls)).toEqual({
      status: 200,
      answer: { result: "accepted", seq: 1 },
    });
    expect((await postSigned(mp.url, MP_PATHS.status, statusBody({ seq: 2 }), stranger, stranger, tls)).answer).toEqual(
      { result: "certificate-rejected", why: "unknown-report-key" },
    );
    // Without the headers, no certificate is still no certificate.
    const { stdout } = await promisify(execFile)("curl", [
      "-sS",
      ...tls,
      "--data-binary",
      statusBody({ seq: 3 }),
      `${mp.url}${MP_PATHS.status}`,
    ]);
    expect(JSON.parse(stdout)).toEqual({ result: "certificate-rejected", why: "missing-certificate" });
  });

  it("the policy itself is never accepted on a report key", async () => {
    const r = await postSigned(mp.url, MP_PATHS.policy, JSON.stringify({ v: 1 }), keyA, keyA, [
      "--cacert",
      pki.ca.certPath,
    ]);
    expect(r.status).toBe(400); // malformed first; a well-formed one would need the client certificate
    const body = JSON.stringify({
      v: 1,
      mediaId: "M1",
      taskSequence: "TS-1",
      mode: "site-based",
      mac: MAC,
      unknownComputers: true,
      uda: "auto",
      timestamp: clock,
      nonce: nextNonce(),
    });
    expect((await postSigned(mp.url, MP_PATHS.policy, body, keyA, keyA, ["--cacert", pki.ca.certPath])).answer).toEqual(
      {
        result: "certificate-rejected",
        why: "missing-certificate",
      },
    );
  });
});
