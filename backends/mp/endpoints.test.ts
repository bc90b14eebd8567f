/** The status and log endpoints and the policy answer's task sequence, against a real server on loopback. */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  askManagementPoint,
  newRunId,
  postBody,
  postLog,
  postStatus,
  signedHeaders,
  type StatusEvent,
} from "./client.ts";
import { MP_HEADERS, MP_PATHS, renderStatusRequest, type PolicyAnswer, type StatusRequest } from "./protocol.ts";
import { startManagementPoint, type RunningMp } from "./server.ts";
import { MAC, makeMedia, makeMediaCert, makeSite, makeTempDir, type MediaCert } from "./testing/fixtures.ts";

let dir = "";
let cert: MediaCert;
let mp: RunningMp;
let clock = 0;
const stateDir = () => join(dir, "state");

beforeAll(async () => {
  dir = makeTempDir("bm-mp-ep-");
  cert = makeMediaCert(dir);
  clock = cert.notBefore + 3600;
  mp = await startManagementPoint({
    site: makeSite(cert.der, { distributionPoints: [{ name: "DP1", url: "http://10.0.2.110/" }] }),
    name: "MP1",
    stateDir: stateDir(),
    now: () => clock,
  });
});
afterAll(async () => {
  await mp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const RUN = "0123456789abcdef";
const event = (seq: number, over: Partial<StatusEvent> = {}): StatusEvent => ({
  mac: MAC,
  deploymentId: "DEP-1",
  run: RUN,
  seq,
  step: seq,
  of: 3,
  name: `step ${seq}`,
  state: "success",
  exitCode: 0,
  ...over,
});

async function getPolicy(mac = MAC): Promise<PolicyAnswer> {
  const c = await askManagementPoint(mp.url, makeMedia(mp.url), { mac }, cert.creds, clock);
  expect(c.answer?.result).toBe("policy");
  return c.answer as PolicyAnswer;
}

describe("policy answer", () => {
  it("carries stepCount, the steps' wire text and content locations, keys in the protocol's order", async () => {
    const answer = await getPolicy();
    expect(Object.keys(answer)).toEqual([
      "result",
      "mp",
      "deploymentId",
      "taskSequence",
      "computer",
      "variables",
      "stepCount",
      "steps",
      "contentLocations",
    ]);
    expect(answer.stepCount).toBe(3);
    const wire = Buffer.from(answer.steps!, "base64").toString("utf8").split("\n");
    expect(wire[0]).toBe("bootmedia-steps\t1\t3");
    expect(wire).toContain(`V\tOSDTimeZone\t${Buffer.from("UTC").toString("base64")}`);
    expect(answer.contentLocations).toEqual({});
  });
});

describe("POST /bootmedia/v1/status", () => {
  it("accepts an event once; the same seq again is a duplicate, stored once", async () => {
    await getPolicy();
    const first = await postStatus(mp.url, event(1), cert.creds, clock);
    expect([first.status, first.answer]).toEqual([200, { result: "accepted", seq: 1 }]);
    const again = await postStatus(mp.url, event(1, { name: "other" }), cert.creds, clock);
    expect([again.status, again.answer]).toEqual([200, { result: "duplicate", seq: 1 }]);
    expect(mp.state.events().filter((e) => e.seq === 1)).toHaveLength(1);
    expect(mp.state.events()[0]!.name).toBe("step 1");
  });

  it("answers the very same signed body again with duplicate, a new event under a used nonce with replayed-nonce", async () => {
    const req: StatusRequest = { v: 1, ...event(2), timestamp: clock, nonce: "ab".repeat(16) };
    const body = Buffer.from(renderStatusRequest(req));
    const send = (b: Buffer) => postBody(mp.url, b, signedHeaders(mp.url, b, cert.creds), cert.creds, MP_PATHS.status);
    expect((await send(body)).answer).toEqual({ result: "accepted", seq: 2 });
    expect((await send(body)).answer).toEqual({ result: "duplicate", seq: 2 });
    const other = Buffer.from(renderStatusRequest({ ...req, seq: 3, step: 3 }));
    expect((await send(other)).answer).toEqual({ result: "bad-request", why: "replayed-nonce" });
    expect(mp.state.events().some((e) => e.seq === 3)).toBe(false);
  });

  it("refuses a deployment the MP never gave this MAC (403), unsigned, stale and oversized events; stores none", async () => {
    const before = mp.state.events().length;
    const unknown = await postStatus(mp.url, event(9, { deploymentId: "DEP-2" }), cert.creds, clock);
    expect([unknown.status, unknown.answer]).toEqual([403, { result: "unknown-deployment", deploymentId: "DEP-2" }]);
    const otherMac = await postStatus(mp.url, event(9, { mac: "52:54:00:00:00:99" }), cert.creds, clock);
    expect(otherMac.answer?.result).toBe("unknown-deployment");
    const unsigned = await postStatus(mp.url, event(9), null, clock);
    expect([unsigned.status, unsigned.answer]).toEqual([
      403,
      { result: "certificate-rejected", why: "missing-signature" },
    ]);
    const stale = await postStatus(mp.url, event(9), cert.creds, clock - 3600);
    expect(stale.answer).toEqual({ result: "bad-request", why: "stale-timestamp" });
    const big = await postStatus(mp.url, event(9, { message: "x".repeat(513) }), cert.creds, clock);
    expect(big.answer).toMatchObject({ result: "bad-request", why: "malformed" });
    const huge = Buffer.from(JSON.stringify({ ...event(9), pad: "x".repeat(5000) }));
    const tooLarge = await postBody(mp.url, huge, signedHeaders(mp.url, huge, cert.creds), cert.creds, MP_PATHS.status);
    expect([tooLarge.status, tooLarge.answer]).toEqual([400, { result: "bad-request", why: "too-large" }]);
    expect(mp.state.events()).toHaveLength(before);
  });

  it("takes an event signed by openssl dgst and posted by curl (independent client)", async () => {
    const req: StatusRequest = { v: 1, ...event(4), timestamp: clock, nonce: "cd".repeat(16) };
    const bodyFile = join(dir, "status.json");
    writeFileSync(bodyFile, renderStatusRequest(req));
    // The documented key order: run right after deploymentId.
    expect(readFileSync(bodyFile, "utf8")).toMatch(
      /^\{"v":1,"mac":"[^"]+","deploymentId":"DEP-1","run":"0123456789abcdef","seq":4,/,
    );
    const signature = execFileSync("sh", [
      "-c",
      `openssl dgst -sha256 -sign "${cert.keyPath}" "${bodyFile}" | base64 -w0`,
    ]).toString();
    // Asynchronously: the server answering curl runs in this process.
    const { stdout: out } = await promisify(execFile)("curl", [
      "-sS",
      "-H",
      "content-type: application/json",
      "-H",
      `${MP_HEADERS.signature}: ${signature}`,
      "-H",
      `${MP_HEADERS.certificate}: ${cert.sha256}`,
      "--data-binary",
      `@${bodyFile}`,
      `${mp.url}${MP_PATHS.status}`,
    ]);
    expect(out).toBe('{"result":"accepted","seq":4}\n');
  });

  it("stores a second run of the same deployment by the same MAC; retries within each run stay duplicates", async () => {
    const mac = "52:54:00:00:00:77";
    const second = newRunId();
    const post = (seq: number, run: string, step = seq) =>
      postStatus(mp.url, event(seq, { mac, run, step, state: step === 0 ? "success" : "start" }), cert.creds, clock);
    await getPolicy(mac);
    for (const seq of [1, 2]) expect((await post(seq, RUN)).answer).toEqual({ result: "accepted", seq });
    expect((await post(3, RUN, 0)).answer).toEqual({ result: "accepted", seq: 3 });
    // Re-imaged: the policy again, then the same seq numbers under a new run.
    await getPolicy(mac);
    expect((await post(1, second)).answer).toEqual({ result: "accepted", seq: 1 });
    expect((await post(1, second)).answer).toEqual({ result: "duplicate", seq: 1 });
    expect((await post(2, RUN)).answer).toEqual({ result: "duplicate", seq: 2 });
    expect((await post(2, second)).answer).toEqual({ result: "accepted", seq: 2 });
    const mine = mp.state.events().filter((e) => e.mac === mac);
    expect(mine.map((e) => `${e.run === RUN ? "first" : "second"}:${e.seq}`)).toEqual([
      "first:1",
      "first:2",
      "first:3",
      "second:1",
      "second:2",
    ]);
    // mp status shows the run that began last: still running at step 2.
    expect(mp.state.computers().find((c) => c.mac === mac)).toMatchObject({
      run: second,
      step: 2,
      state: "running",
      events: 2,
    });
  });

  it("refuses an event without a run, or with a run that is not 16 lower-case hex digits", async () => {
    const before = mp.state.events().length;
    const { run: _, ...noRun } = event(7);
    const missing = await postStatus(mp.url, noRun as StatusEvent, cert.creds, clock);
    expect([missing.status, missing.answer]).toEqual([
      400,
      { result: "bad-request", why: "malformed", detail: expect.stringMatching(/^run: /) },
    ]);
    for (const run of ["0123456789ABCDEF", "0123", "../../0123456789"]) {
      const bad = await postStatus(mp.url, event(7, { run }), cert.creds, clock);
      expect(bad.answer).toEqual({ result: "bad-request", why: "malformed", detail: "run: 16 lower-case hex digits" });
    }
    expect(mp.state.events()).toHaveLength(before);
  });
});

describe("POST /bootmedia/v1/log", () => {
  const logFile = (run = RUN) => join(stateDir(), "logs", MAC.replace(/:/g, ""), `DEP-1.${run}.log`);

  it("stores the log under the state dir by MAC, deployment and run: each run its own file", async () => {
    const log = Buffer.from("step 1 ok\nstep 2 ok\n");
    const c = await postLog(mp.url, { mac: MAC, deploymentId: "DEP-1", run: RUN, log }, cert.creds, clock);
    expect([c.status, c.answer]).toEqual([200, { result: "accepted", bytes: log.length }]);
    expect(readFileSync(logFile())).toEqual(log);
    const other = newRunId();
    const again = await postLog(
      mp.url,
      { mac: MAC, deploymentId: "DEP-1", run: other, log: Buffer.from("second run\n") },
      cert.creds,
      clock,
    );
    expect(again.answer).toEqual({ result: "accepted", bytes: 11 });
    expect(readFileSync(logFile(other), "utf8")).toBe("second run\n");
    expect(readFileSync(logFile())).toEqual(log);
    expect((await mp.state.readLog(MAC, "DEP-1", other))?.toString()).toBe("second run\n");
  });

  it("refuses a log past 512 KiB, a deployment never given and a malformed run; the stored log is untouched", async () => {
    const big = await postLog(
      mp.url,
      { mac: MAC, deploymentId: "DEP-1", run: RUN, log: Buffer.alloc(512 * 1024 + 1, 0x61) },
      cert.creds,
      clock,
    );
    expect(big.answer).toMatchObject({ result: "bad-request", why: "too-large" });
    const never = await postLog(
      mp.url,
      { mac: MAC, deploymentId: "../../x", run: RUN, log: Buffer.from("x") },
      cert.creds,
      clock,
    );
    expect(never.answer).toEqual({ result: "unknown-deployment", deploymentId: "../../x" });
    const badRun = await postLog(
      mp.url,
      { mac: MAC, deploymentId: "DEP-1", run: "../../x", log: Buffer.from("x") },
      cert.creds,
      clock,
    );
    expect(badRun.answer).toEqual({ result: "bad-request", why: "malformed", detail: "run: 16 lower-case hex digits" });
    expect(readFileSync(logFile(), "utf8")).toBe("step 1 ok\nstep 2 ok\n");
  });

  it("a client that stops mid-upload leaves no file and no record", async () => {
    const logs = join(stateDir(), "logs");
    const before = readdirSync(logs, { recursive: true }).sort();
    const port = mp.port;
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => {
        s.write(
          `POST ${MP_PATHS.log} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 300000\r\n\r\n`,
        );
        s.write(
          `{"v":1,"mac":"${MAC}","deploymentId":"DEP-1","run":"${RUN}","timestamp":${clock},"nonce":"${"ef".repeat(16)}","log":"`,
        );
        s.write("A".repeat(100_000), () => setTimeout(() => s.destroy(), 100));
      });
      s.on("close", () => resolve());
      s.on("error", reject);
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(logs, { recursive: true }).sort()).toEqual(before);
    expect(readFileSync(logFile(), "utf8")).toBe("step 1 ok\nstep 2 ok\n");
    expect(existsSync(join(stateDir(), "journal.jsonl"))).toBe(true);
    expect(readFileSync(join(stateDir(), "journal.jsonl"), "utf8")).not.toContain("ef".repeat(16));
  });
});
