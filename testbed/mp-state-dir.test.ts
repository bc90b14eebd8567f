/**
 * A deploy case's `deployed` read from the state dir of an MP the testbed did not start: a real
 * MP with a state dir answers a policy and stores the events a client posts over HTTP, and the
 * reader finds the installed OS's `deployed` beside the running MP (and nothing else).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askManagementPoint, postStatus } from "../backends/mp/client.ts";
import { startManagementPoint, type RunningMp } from "../backends/mp/server.ts";
import {
  MAC,
  makeMedia,
  makeMediaCert,
  makeSite,
  makeTempDir,
  type MediaCert,
} from "../backends/mp/testing/fixtures.ts";
import { deployedInStateDir } from "./mp-state-dir.ts";

const RUN = "00112233445566aa";
let dir = "";
let cert: MediaCert;
let mp: RunningMp;
let clock = 0;

beforeAll(async () => {
  dir = makeTempDir("bm-mp-state-dir-");
  cert = makeMediaCert(dir);
  clock = cert.notBefore + 3600;
  mp = await startManagementPoint({
    site: makeSite(cert.der),
    name: "MP1",
    stateDir: join(dir, "state"),
    now: () => clock,
  });
  const asked = await askManagementPoint(mp.url, makeMedia(mp.url), { mac: MAC }, cert.creds, clock);
  expect(asked.answer).toMatchObject({ result: "policy", deploymentId: "DEP-1" });
});
afterAll(async () => {
  await mp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (seq: number, step: number, state: "success" | "deployed") =>
  postStatus(
    mp.url,
    { mac: MAC, deploymentId: "DEP-1", run: RUN, seq, step, of: 3, name: `s${step}`, state },
    cert.creds,
    clock,
  );

describe("deployedInStateDir (an MP the user runs)", () => {
  it("finds nothing before the installed OS reported, then its deployed event, read beside the running MP", async () => {
    const since = clock;
    const find = deployedInStateDir(join(dir, "state"), {
      deploymentId: "DEP-1",
      mac: MAC.toUpperCase(),
      sinceSec: since,
    });
    await post(1, 1, "success");
    expect(await find()).toBeUndefined();
    clock += 20;
    await post(2, 0, "deployed");
    expect(await find()).toEqual({
      deploymentId: "DEP-1",
      run: RUN,
      seq: 2,
      step: 0,
      name: "s0",
      state: "deployed",
      at: since + 20,
    });
  });

  it("leaves out an older deployed, another deployment and another computer", async () => {
    const state = join(dir, "state");
    expect(await deployedInStateDir(state, { deploymentId: "DEP-1", mac: MAC, sinceSec: clock + 1 })()).toBeUndefined();
    expect(await deployedInStateDir(state, { deploymentId: "DEP-2", mac: MAC, sinceSec: 0 })()).toBeUndefined();
    expect(
      await deployedInStateDir(state, { deploymentId: "DEP-1", mac: "52:54:00:00:00:42", sinceSec: 0 })(),
    ).toBeUndefined();
  });
});
