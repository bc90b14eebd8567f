/** The journal and the state rebuilt from it: torn tails, restarts, nonces, the per-computer view. */
import { appendFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { JOURNAL_FILE } from "./journal.ts";
import type { StatusRequest } from "./protocol.ts";
import { LEGACY_RUN, MpState, logFileName } from "./state.ts";
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
const RUN_A = "0123456789abcdef";
const RUN_B = "fedcba9876543210";
const ev = (seq: number, step: number, state: StatusRequest["state"], mac = MAC, run = RUN_A): StatusRequest => ({
  v: 1,
  mac,
  deploymentId: "DEP-1",
  run,
  seq,
  step,
  of: 3,
  name: `s${step}`,
  state,
  timestamp: T,
  nonce: `${String(seq).padStart(4, "0")}${run.slice(0, 4)}${"a".repeat(24)}${mac.slice(-2)}`,
});
const policy = (mac = MAC, nonce = "b") => ({
  time: T,
  mac,
  computer: "PC-1",
  deploymentId: "DEP-1",
  taskSequence: "TS-1",
  stepCount: 3,
  nonce: `${nonce.repeat(30)}${mac.slice(-2)}`,
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
        run: RUN_A,
        taskSequence: "TS-1",
        step: 1,
        stepCount: 3,
        state: "failed",
        failures: 1,
        deployed: null,
        events: 3,
        lastContact: T + 9,
      },
      expect.objectContaining({ computer: "PC-1", step: 3, state: "succeeded", failures: 1, events: 4 }),
    ]);
  });

  it("keeps each run of a deployment apart: a second run is stored, a retry within a run is a duplicate", async () => {
    const dir = tempDir();
    const a = await MpState.open(dir);
    await a.recordPolicy(policy());
    for (const [seq, step, s] of [
      [1, 1, "success"],
      [2, 2, "failure"],
      [3, 0, "failure"],
    ] as const)
      expect(await a.addStatus(ev(seq, step, s), T)).toBe("accepted");
    expect(a.computers()[0]).toMatchObject({ run: RUN_A, state: "failed", failures: 1, events: 3 });
    // The computer is re-imaged: a new policy, then a new run numbering its seq from 1 again.
    await a.recordPolicy(policy(MAC, "c"));
    expect(a.computers()[0]).toMatchObject({ run: null, step: 0, state: "running", failures: 0, events: 0 });
    expect(await a.addStatus(ev(1, 1, "success", MAC, RUN_B), T + 60)).toBe("accepted");
    expect(await a.addStatus(ev(1, 1, "success", MAC, RUN_B), T + 61)).toBe("duplicate");
    expect(await a.addStatus(ev(2, 0, "success", MAC, RUN_B), T + 62)).toBe("accepted");
    // A late retry of the first run is still that run's duplicate, and changes nothing shown.
    expect(await a.addStatus(ev(3, 0, "failure"), T + 63)).toBe("duplicate");
    const latest = { run: RUN_B, step: 1, state: "succeeded", failures: 0, events: 2, lastContact: T + 62 };
    expect(a.computers()).toEqual([expect.objectContaining(latest)]);
    expect(a.events().map((e) => `${e.run.slice(0, 4)}:${e.seq}`)).toEqual([
      "0123:1",
      "0123:2",
      "0123:3",
      "fedc:1",
      "fedc:2",
    ]);
    await a.close();
    // The journal says the same after a restart.
    const b = await MpState.open(dir);
    expect(b.computers()).toEqual([expect.objectContaining(latest)]);
    expect(await b.addStatus(ev(2, 0, "success", MAC, RUN_B), T + 70)).toBe("duplicate");
    await b.close();
  });

  it("reads a journal from before runs existed as run legacy; a new run after it is stored and shown", async () => {
    const dir = tempDir();
    const old = (seq: number, step: number, state: string) => {
      const { run: _, ...e } = ev(seq, step, state as StatusRequest["state"]);
      return JSON.stringify({ t: "status", time: T + seq, event: e });
    };
    writeFileSync(
      join(dir, JOURNAL_FILE),
      `${[
        JSON.stringify({ t: "policy", ...policy() }),
        old(1, 1, "success"),
        old(2, 0, "success"),
        JSON.stringify({ t: "log", time: T + 3, mac: MAC, deploymentId: "DEP-1", bytes: 3, nonce: "d".repeat(32) }),
      ].join("\n")}\n`,
    );
    const a = await MpState.open(dir);
    expect(a.computers()).toEqual([expect.objectContaining({ run: LEGACY_RUN, state: "succeeded", events: 2 })]);
    expect(a.claimNonce("d".repeat(32), T + 4)).toBe(false);
    // A legacy run's log is where logs were kept before runs: <deploymentId>.log.
    mkdirSync(join(dir, "logs", MAC.replace(/:/g, "")), { recursive: true });
    writeFileSync(join(dir, "logs", MAC.replace(/:/g, ""), "DEP-1.log"), "old");
    expect((await a.readLog(MAC, "DEP-1", LEGACY_RUN))?.toString()).toBe("old");
    // Seq 1 of a new run is no duplicate of the legacy seq 1.
    expect(await a.addStatus(ev(1, 1, "start"), T + 10)).toBe("accepted");
    expect(a.computers()).toEqual([expect.objectContaining({ run: RUN_A, state: "running", events: 1 })]);
    await a.close();
  });

  it("names log files from the deployment id and the run, never a path", () => {
    expect(logFileName("DEP-1", RUN_A)).toBe(`DEP-1.${RUN_A}.log`);
    expect(logFileName("DEP-1", LEGACY_RUN)).toBe("DEP-1.log");
    expect(logFileName("../x", RUN_A)).toBe(`_2e_2e_2fx.${RUN_A}.log`);
    expect(logFileName(".hidden", "../y")).toBe("_2ehidden._2e_2e_2fy.log");
    expect(logFileName("d".repeat(300), RUN_A)).toMatch(new RegExp(`^[0-9a-f]{64}\\.${RUN_A}\\.log$`));
    mkdirSync(join(tempDir(), logFileName("a/b", RUN_A)));
  });
});
