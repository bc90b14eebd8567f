/** The journal and the state rebuilt from it: torn tails, restarts, nonces, the per-computer view. */
import { appendFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { JOURNAL_FILE } from "./journal.ts";
import type { StatusRequest } from "./protocol.ts";
import { MpState, logFileName } from "./state.ts";
import { MAC, makeTempDir } from "./testing/fixtures.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = makeTempDir("bm-mp-state-");
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const T = 1_800_000_000;
const ev = (seq: number, step: number, state: StatusRequest["state"], mac = MAC): StatusRequest => ({
  v: 1,
  mac,
  deploymentId: "DEP-1",
  seq,
  step,
  of: 3,
  name: `s${step}`,
  state,
  timestamp: T,
  nonce: `${String(seq).padStart(4, "0")}${"a".repeat(28)}${mac.slice(-2)}`,
});
const policy = (mac = MAC) => ({
  time: T,
  mac,
  computer: "PC-1",
  deploymentId: "DEP-1",
  taskSequence: "TS-1",
  stepCount: 3,
  nonce: `${"b".repeat(30)}${mac.slice(-2)}`,
});

describe("MP state dir", () => {
  it("keeps policies, events and nonces across a restart", async () => {
    const dir = tempDir();
    const a = await MpState.open(dir);
    await a.recordPolicy(policy());
    expect(await a.addStatus(ev(1, 1, "start"), T)).toBe("accepted");
    await a.close();
    const b = await MpState.open(dir);
    expect(b.hasGiven(MAC, "DEP-1")).toBe(true);
    expect(await b.addStatus(ev(1, 1, "start"), T + 1)).toBe("duplicate");
    expect(b.claimNonce(ev(1, 1, "start").nonce, T + 1)).toBe(false);
    expect(b.claimNonce(policy().nonce, T + 1)).toBe(false);
    expect(b.claimNonce("c".repeat(32), T + 1)).toBe(true);
    await b.close();
  });

  it("drops a torn last line (kill -9 mid-append) and cuts it off so the next record starts clean", async () => {
    const dir = tempDir();
    const a = await MpState.open(dir);
    await a.recordPolicy(policy());
    await a.addStatus(ev(1, 1, "start"), T);
    await a.close();
    const file = join(dir, JOURNAL_FILE);
    const whole = statSync(file).size;
    appendFileSync(file, '{"t":"status","time":1,"event":{"v":1,"mac":"52:54');
    const b = await MpState.open(dir);
    expect(statSync(file).size).toBe(whole);
    expect(b.events().map((e) => e.seq)).toEqual([1]);
    await b.addStatus(ev(2, 1, "success"), T);
    await b.close();
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l).t)).toEqual(["policy", "status", "status"]);
    // A reader beside a writer (`mp status`) skips a torn tail without touching the file.
    appendFileSync(file, '{"t":"sta');
    expect((await MpState.read(dir)).events()).toHaveLength(2);
    expect(readFileSync(file, "utf8").endsWith('{"t":"sta')).toBe(true);
  });

  it("refuses a journal damaged before its last line with BM5310, and a second writer with BM5311", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, JOURNAL_FILE), 'garbage\n{"t":"policy"}\n');
    await expect(MpState.open(dir)).rejects.toMatchObject({ code: "BM5310", message: expect.stringMatching(/line 1/) });
    const ok = tempDir();
    const a = await MpState.open(ok);
    await expect(MpState.open(ok)).rejects.toMatchObject({ code: "BM5311" });
    await a.close();
    // A dead holder's lock (a killed MP) is taken over.
    writeFileSync(join(ok, "lock"), "999999999\n");
    await (await MpState.open(ok)).close();
    const file = join(ok, "file");
    writeFileSync(file, "");
    await expect(MpState.open(join(file, "state"))).rejects.toMatchObject({ code: "BM5309" });
  });

  it("shows each computer's latest run: step N/M, state, failures", async () => {
    const state = MpState.inMemory();
    const other = "52:54:00:00:00:02";
    await state.recordPolicy(policy());
    await state.recordPolicy({ ...policy(other), computer: "PC-2" });
    for (const [i, [step, s]] of (
      [
        [1, "success"],
        [2, "success"],
        [3, "failure"],
        [0, "success"],
      ] as const
    ).entries())
      await state.addStatus(ev(i + 1, step, s), T + i);
    await state.addStatus(ev(1, 1, "start", other), T);
    await state.addStatus(ev(2, 1, "failure", other), T);
    await state.addStatus(ev(3, 0, "failure", other), T + 9);
    expect(state.computers()).toEqual([
      {
        computer: "PC-2",
        mac: other,
        deploymentId: "DEP-1",
        taskSequence: "TS-1",
        step: 1,
        stepCount: 3,
        state: "failed",
        failures: 1,
        events: 3,
        lastContact: T + 9,
      },
      expect.objectContaining({ computer: "PC-1", step: 3, state: "succeeded", failures: 1, events: 4 }),
    ]);
  });

  it("names log files from the deployment id, never a path", () => {
    expect(logFileName("DEP-1")).toBe("DEP-1.log");
    expect(logFileName("../x")).toBe("_2e_2e_2fx.log");
    expect(logFileName(".hidden")).toBe("_2ehidden.log");
    mkdirSync(join(tempDir(), logFileName("a/b")));
  });
});
