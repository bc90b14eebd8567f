/**
 * The task-sequence engine (plugins/boot-image/agent/lib/ts.sh + ts-report.sh) on the host under
 * busybox sh with only busybox applets and openssl on PATH, as the boot environment runs it:
 * the real policy step (lib/mp.sh + bootmedia-mp.sh) asks the real management point
 * (backends/mp/server.ts, a site with inline steps, a state dir), then the engine runs the steps
 * and reports to that MP. Oracles: the MP's journal and stored log on disk, the serial markers,
 * the screen file. Only the network bring-up is replaced. QEMU boots: testbed/mp-serve.e2e.test.ts, testbed/site-file.e2e.test.ts.
 */
import { execa } from "execa";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_INIT, AGENT_LIBS, MP_AGENT_SCRIPT } from "../../plugins/boot-image/agent-files.ts";
import { startManagementPoint, type RunningMp } from "../../backends/mp/server.ts";
import { addFolder } from "../../backends/library-admin/library-admin.ts";
import { serveLibrary } from "../../plugins/distribution-point/server.ts";
import { corrupt } from "../../plugins/distribution-point/testing/faults.ts";
import type { SiteInput } from "../../backends/mp/site.ts";
import {
  MAC,
  makePki,
  makeSite,
  startSiteFixture,
  TASK_SEQUENCE,
  type CertFiles,
  type SiteFixture,
} from "./testing/fixtures.ts";

const agent = readFileSync(AGENT_INIT, "utf8");
const helpers = agent.slice(agent.indexOf("json_str()"), agent.indexOf("mount_basics()"));
const SECRET = "S3cret-Join-Pw-42";
let fx: SiteFixture;
let runs = 0;

beforeAll(async () => {
  fx = await startSiteFixture("bm-ts-engine-");
});
afterAll(async () => fx?.close());

type Marker = Record<string, unknown> & { event: string };
interface EngineRun {
  markers: Marker[];
  stdout: string;
  stderr: string;
  /** The engine reached the line after run_task_sequence (no `fail`). */
  continued: boolean;
  screen: string;
  work: string;
}

type SiteExtra = Pick<SiteInput, "library" | "distributionPoints">;

/** A site whose deployment for MAC.known runs `steps` (the fixture site, its task sequence inline). */
function siteWith(steps: unknown[], extra: SiteExtra = {}): SiteInput {
  const site = makeSite(fx.media.der, fx.stranger.der);
  return { ...site, ...extra, taskSequences: [{ id: TASK_SEQUENCE, name: "Engine test", steps }] };
}

/** An MP named MP1 with its own state dir (a fresh one unless given). */
async function startMp(
  steps: unknown[],
  opts: { stateDir?: string; port?: number; site?: SiteExtra } = {},
): Promise<RunningMp> {
  const stateDir = opts.stateDir ?? join(fx.dir, `state-${++runs}`);
  return startManagementPoint({
    site: siteWith(steps, opts.site),
    name: "MP1",
    stateDir,
    ...(opts.port ? { port: opts.port } : {}),
  });
}

/** Runs ask_management_points then run_task_sequence as /init does, against `mpUrl`. */
async function runEngine(
  mpUrl: string,
  opts: { media?: Record<string, string>; cert?: CertFiles; caPath?: string } = {},
): Promise<EngineRun> {
  const cert = opts.cert ?? fx.media;
  const work = join(fx.dir, `run-${++runs}`);
  const media = join(work, "media");
  mkdirSync(join(media, "bootmedia"), { recursive: true });
  writeFileSync(join(media, "bootmedia/media.crt"), cert.certPem);
  const variables = { OSDTimeZone: "UTC", Quoted: 'say "hi"', ...opts.media };
  writeFileSync(join(media, "bootmedia/media.json"), `${JSON.stringify({ schema: 1, variables }, null, 2)}\n`);
  const script = `say() { echo "BOOTMEDIA $1"; }
fail() { say "{\\"event\\":\\"error\\",\\"reason\\":\\"$1\\"\${2:+,$2}}"; exit 1; }
${helpers}
${AGENT_LIBS.map((f) => `. '${f}'`).join("\n")}
bring_up_network() { MP_NIC=lo; }
MEDIA='${media}'
MP_AGENT='${MP_AGENT_SCRIPT}'
SCREEN='${join(work, "screen.txt")}'
TS_DIR='${join(work, "ts")}'
BM_MEDIA_ID=contoso-x64 BM_TASK_SEQUENCE=${TASK_SEQUENCE} BM_MP_MODE=site-based BM_MPS='${mpUrl}'
BM_UNKNOWN_COMPUTERS=false BM_UDA=none
BM_MEDIA_KEY='${cert.keyPem}'
BM_SECRET_VARIABLES='JoinPw'
BM_VAR_JoinPw='${SECRET}'
ask_management_points
run_task_sequence
echo after-engine`;
  const r = await execa("/bin/busybox", ["sh", "-c", script], {
    reject: false,
    timeout: 120_000,
    extendEnv: false,
    env: {
      PATH: fx.bin,
      BM_CLIENT_MAC: MAC.known,
      BM_CLIENT_UUID: "",
      ...(opts.caPath ? { BM_MP_CA: opts.caPath } : {}),
    },
  });
  const markers = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("BOOTMEDIA "))
    .map((l) => JSON.parse(l.slice(10)) as Marker);
  const screenFile = join(work, "screen.txt");
  return {
    markers,
    stdout: r.stdout,
    stderr: r.stderr,
    continued: r.stdout.includes("after-engine"),
    screen: existsSync(screenFile) ? readFileSync(screenFile, "utf8") : "",
    work,
  };
}

interface StoredEvent {
  run: string;
  seq: number;
  step: number;
  of: number;
  name: string;
  state: string;
  exitCode?: number;
  message?: string;
}

/** The status events the MP's journal holds for MAC.known, in journal order. */
function storedEvents(stateDir: string): StoredEvent[] {
  return readFileSync(join(stateDir, "journal.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { t: string; event?: StoredEvent & { mac: string } })
    .filter((r) => r.t === "status" && r.event?.mac === MAC.known)
    .map((r) => r.event!);
}

/** The log the MP stored for MAC.known's deployment run (the only one under logs/<mac>/). */
function storedLog(stateDir: string): string | undefined {
  const dir = join(stateDir, "logs", MAC.known.replace(/:/g, ""));
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => f.endsWith(".log"));
  return files.length === 1 ? readFileSync(join(dir, files[0]!), "utf8") : undefined;
}

const stepMarkers = (run: EngineRun) => run.markers.filter((m) => m.event === "step");
/** "index:state" of every step marker, in order. */
const timeline = (run: EngineRun) => stepMarkers(run).map((m) => `${m.index}:${m.state}`);

// Generous: each step forks a few dozen busybox processes, and the MP fsyncs its journal on a shared machine.
describe("task-sequence engine against the real management point", { timeout: 120_000 }, () => {
  it("three steps: output, set-variable, a tolerated failure → 3/3 with one failure, events and log at the MP", async () => {
    const stateDir = join(fx.dir, "state-three");
    const mp = await startMp(
      [
        { name: "Say hello", type: "run-command", command: 'echo "hello from %OSDComputerName%"' },
        { name: "Remember", type: "set-variable", variable: "Stage", value: "two" },
        { name: "May fail", type: "run-command", command: "echo stage=%Stage%; exit 3", continueOnError: true },
      ],
      { stateDir },
    );
    try {
      const run = await runEngine(mp.url);
      expect(run.continued, run.stdout + run.stderr).toBe(true);
      // The policy marker still names the answer's variables when the steps follow them.
      expect(run.markers.find((m) => m.event === "policy")?.variables).toEqual([
        "OSDComputerName",
        "SMSTSAssignUsersMode",
      ]);
      expect(timeline(run)).toEqual(["1:start", "1:success", "2:start", "2:success", "3:start", "3:failure"]);
      expect(stepMarkers(run)[5]).toMatchObject({ name: "May fail", type: "run-command", of: 3, exitCode: 3 });
      expect(run.markers.at(-1)).toEqual({ event: "task-sequence-done", steps: 3, failed: 1 });
      const events = storedEvents(stateDir);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(events.map((e) => `${e.step}:${e.state}`)).toEqual([
        "1:start",
        "1:success",
        "2:start",
        "2:success",
        "3:start",
        "3:failure",
        "0:success",
      ]);
      expect(events[1]).toMatchObject({ exitCode: 0, message: "hello from from-site" });
      expect(events[5]).toMatchObject({ exitCode: 3, message: "stage=two" });
      expect(events.filter((e) => e.state === "failure")).toHaveLength(1);
      const log = storedLog(stateDir);
      expect(log).toContain("| hello from from-site");
      expect(log).toContain("3 steps, 1 failed");
      expect(run.screen).toContain("Step 1 of 3: Say hello");
      expect(run.screen).toContain("    hello from from-site");
      expect(run.screen).toMatch(/Step 3 of 3 \.+ \S*failed\s*\S* May fail \(exit 3\)/);
    } finally {
      await mp.close();
    }
  });

  it("the same computer running the deployment twice (re-imaged): both runs stored, each step once per run, a log each", async () => {
    const stateDir = join(fx.dir, "state-twice");
    const mp = await startMp(
      [
        { name: "Say hello", type: "run-command", command: "echo hello" },
        { name: "Remember", type: "set-variable", variable: "Stage", value: "two" },
      ],
      { stateDir },
    );
    try {
      const runs = [await runEngine(mp.url), await runEngine(mp.url)];
      for (const run of runs) {
        expect(run.continued, run.stdout + run.stderr).toBe(true);
        expect(run.markers.at(-1)).toEqual({ event: "task-sequence-done", steps: 2, failed: 0 });
      }
      // Every event of both runs was news to the MP: none answered duplicate.
      const statusAnswers = mp.requests.filter((r) => r.path === "/bootmedia/v1/status").map((r) => r.result);
      expect(statusAnswers).toEqual(Array(10).fill("accepted"));
      const events = storedEvents(stateDir);
      const ids = [...new Set(events.map((e) => e.run))];
      expect(ids).toHaveLength(2);
      for (const [i, id] of ids.entries()) {
        expect(id).toMatch(/^[0-9a-f]{16}$/);
        expect(readFileSync(join(runs[i]!.work, "ts/engine.log"), "utf8")).toContain(`, run ${id}, `);
        expect(events.filter((e) => e.run === id).map((e) => `${e.seq}:${e.step}:${e.state}`)).toEqual([
          "1:1:start",
          "2:1:success",
          "3:2:start",
          "4:2:success",
          "5:0:success",
        ]);
      }
      const logs = join(stateDir, "logs", MAC.known.replace(/:/g, ""));
      expect(readdirSync(logs).sort()).toEqual(ids.map((id) => `DEP-KNOWN.${id}.log`).sort());
      for (const id of ids) expect(readFileSync(join(logs, `DEP-KNOWN.${id}.log`), "utf8")).toContain(`, run ${id}, `);
      expect(mp.state.computers().find((c) => c.mac === MAC.known)).toMatchObject({
        run: ids[1],
        step: 2,
        stepCount: 2,
        state: "succeeded",
        events: 5,
      });
    } finally {
      await mp.close();
    }
  });

  it("a failure without continueOnError stops the sequence: failure marker naming the step, later steps never ran, log uploaded", async () => {
    const stateDir = join(fx.dir, "state-stop");
    const mp = await startMp(
      [
        { name: "First", type: "run-command", command: "echo first" },
        { name: "Breaks", type: "run-command", command: "echo broken >&2; exit 5" },
        { name: "Never", type: "run-command", command: "touch never-ran" },
      ],
      { stateDir },
    );
    try {
      const run = await runEngine(mp.url);
      expect(run.continued).toBe(false);
      expect(timeline(run)).toEqual(["1:start", "1:success", "2:start", "2:failure"]);
      expect(run.markers.at(-1)).toEqual({ event: "error", reason: "task-sequence-failed", step: 2, name: "Breaks" });
      expect(existsSync("/never-ran")).toBe(false);
      const events = storedEvents(stateDir);
      expect(events.map((e) => `${e.step}:${e.state}`)).toEqual([
        "1:start",
        "1:success",
        "2:start",
        "2:failure",
        "0:failure",
      ]);
      expect(events[3]).toMatchObject({ exitCode: 5, message: "broken" });
      expect(storedLog(stateDir)).toContain("the task sequence failed at step 2");
    } finally {
      await mp.close();
    }
  });

  it("conditions, groups with continueOnError, %Var% expansion, the engine's own variables, timeouts", async () => {
    const stateDir = join(fx.dir, "state-flow");
    const mp = await startMp(
      [
        { name: "Set X", type: "set-variable", variable: "X", value: "1-%OSDTimeZone%" },
        {
          name: "Equals",
          type: "run-command",
          command: "echo equals",
          condition: { variable: "X", equals: "1-%OSDTimeZone%" },
        },
        { name: "Not equal", type: "run-command", command: "echo no", condition: { variable: "X", equals: "2" } },
        { name: "Exists Y", type: "run-command", command: "echo no", condition: { variable: "Y", exists: true } },
        {
          name: "Missing Y",
          type: "run-command",
          command: "echo missing",
          condition: { variable: "Y", exists: false },
        },
        {
          name: "Tolerant group",
          type: "group",
          continueOnError: true,
          steps: [
            { name: "In group", type: "run-command", command: "echo in-group" },
            { name: "Group fails", type: "run-command", command: "exit 2" },
            { name: "Group rest", type: "run-command", command: "echo never" },
          ],
        },
        {
          name: "Skipped group",
          type: "group",
          condition: { variable: "X", equals: "nope" },
          steps: [{ name: "Inside skipped", type: "run-command", command: "echo never" }],
        },
        {
          name: "Expand",
          type: "run-command",
          command:
            "echo [%OSDComputerName%][%OSDTimeZone%][%_SMSTSAdvertID%][%_SMSTSMediaType%][%_SMSTSNextInstructionPointer%][%_SMSTSLastActionRetCode%][%Nope%][100%]",
        },
        { name: "Slow", type: "run-command", command: "sleep 30 & sleep 30", timeout: 2, continueOnError: true },
        { name: "Other code", type: "run-command", command: "exit 7", successCodes: [0, 7] },
      ],
      { stateDir },
    );
    try {
      const t0 = Date.now();
      const run = await runEngine(mp.url);
      expect(run.continued, run.stdout + run.stderr).toBe(true);
      expect(Date.now() - t0).toBeLessThan(25_000);
      expect(timeline(run)).toEqual([
        "1:start",
        "1:success",
        "2:start",
        "2:success",
        "3:skipped",
        "4:skipped",
        "5:start",
        "5:success",
        "6:start",
        "7:start",
        "7:success",
        "8:start",
        "8:failure",
        "9:skipped",
        "6:failure",
        "10:skipped",
        "11:skipped",
        "12:start",
        "12:success",
        "13:start",
        "13:failure",
        "14:start",
        "14:success",
      ]);
      // Failed: step 8, its group 6, the timed-out step 13.
      expect(run.markers.at(-1)).toEqual({ event: "task-sequence-done", steps: 14, failed: 3 });
      const events = storedEvents(stateDir);
      const byStep = (step: number, state: string) => events.find((e) => e.step === step && e.state === state);
      expect(byStep(12, "success")?.message).toBe("[from-site][UTC][DEP-KNOWN][BootMedia][12][2][%Nope%][100%]");
      expect(byStep(13, "failure")?.message).toMatch(/^timed out after 2 s/);
      expect(byStep(14, "success")?.exitCode).toBe(7);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    } finally {
      await mp.close();
    }
  });

  it("nested groups: a failure ends the nearest enclosing group with continueOnError, failing the groups between", async () => {
    const cmd = (name: string, command: string, extra = {}) => ({ name, type: "run-command", command, ...extra });
    const mp = await startMp([
      {
        name: "Outer",
        type: "group",
        continueOnError: true,
        steps: [
          { name: "Inner", type: "group", steps: [cmd("I1", "true"), cmd("I2", "exit 1"), cmd("I3", "true")] },
          cmd("O2", "true"),
        ],
      },
      cmd("After", "true"),
      {
        name: "Outer2",
        type: "group",
        steps: [
          {
            name: "Inner2",
            type: "group",
            continueOnError: true,
            steps: [cmd("J1", "exit 1", { continueOnError: true }), cmd("J2", "true")],
          },
          cmd("K", "true"),
        ],
      },
    ]);
    try {
      const run = await runEngine(mp.url);
      expect(run.continued, run.stdout + run.stderr).toBe(true);
      expect(timeline(run).join(" ")).toBe(
        "1:start 2:start 3:start 3:success 4:start 4:failure 5:skipped 6:skipped 2:failure 1:failure " +
          "7:start 7:success 8:start 9:start 10:start 10:failure 11:start 11:success 9:success 12:start 12:success 8:success",
      );
      expect(run.markers.at(-1)).toEqual({ event: "task-sequence-done", steps: 12, failed: 4 });
    } finally {
      await mp.close();
    }
  });

  it("secret variables work in commands but never reach the output, the markers, the events or the log", async () => {
    const stateDir = join(fx.dir, "state-secret");
    const mp = await startMp(
      [
        { name: "Use secret", type: "run-command", command: 'echo "joining with %JoinPw% now"' },
        { name: "Copy secret", type: "set-variable", variable: "Copy", value: "x%JoinPw%x" },
        { name: "Leak on failure", type: "run-command", command: "echo %Copy% >&2; exit 1", continueOnError: true },
        { name: "Check it is real", type: "run-command", command: `[ "%JoinPw%" = "${SECRET}" ] && echo same` },
      ],
      { stateDir },
    );
    try {
      const run = await runEngine(mp.url);
      expect(run.continued, run.stdout + run.stderr).toBe(true);
      const events = storedEvents(stateDir);
      expect(events.find((e) => e.step === 1 && e.state === "success")?.message).toBe("joining with *** now");
      expect(events.find((e) => e.step === 3 && e.state === "failure")?.message).toBe("x***x");
      expect(events.find((e) => e.step === 4 && e.state === "success")?.message).toBe("same");
      const log = storedLog(stateDir)!;
      expect(log).toContain("joining with *** now");
      for (const where of [
        run.stdout,
        run.stderr,
        run.screen,
        log,
        readFileSync(join(stateDir, "journal.jsonl"), "utf8"),
      ])
        expect(where).not.toContain(SECRET);
    } finally {
      await mp.close();
    }
  });

  it("an MP that goes away mid-sequence and comes back gets every event later, in order, each once", async () => {
    const stateDir = join(fx.dir, "state-away");
    const signal = join(fx.dir, "signals");
    mkdirSync(signal, { recursive: true });
    // The steps ask the test to stop the MP (and wait until it is down), then to start it again.
    const waitFor = (name: string) =>
      `touch ${signal}/${name}-asked; while [ ! -f ${signal}/${name}-done ]; do sleep 0.2; done`;
    const steps = [
      { name: "Before", type: "run-command", command: "echo before" },
      { name: "Take MP down", type: "run-command", command: waitFor("down") },
      { name: "While down 1", type: "run-command", command: "echo down-1" },
      { name: "While down 2", type: "set-variable", variable: "D", value: "2" },
      { name: "Bring MP back", type: "run-command", command: waitFor("up") },
      { name: "After", type: "run-command", command: "echo after" },
    ];
    let mp = await startMp(steps, { stateDir });
    const port = mp.port;
    const until = async (file: string) => {
      while (!existsSync(file)) await new Promise((r) => setTimeout(r, 100));
    };
    const controller = (async () => {
      await until(join(signal, "down-asked"));
      await mp.close();
      writeFileSync(join(signal, "down-done"), "");
      await until(join(signal, "up-asked"));
      mp = await startMp(steps, { stateDir, port });
      writeFileSync(join(signal, "up-done"), "");
    })();
    try {
      const run = await runEngine(mp.url);
      await controller;
      expect(run.continued, run.stdout + run.stderr).toBe(true);
      expect(run.markers.at(-1)).toEqual({ event: "task-sequence-done", steps: 6, failed: 0 });
      const events = storedEvents(stateDir);
      // 6 steps × start + success, and step 0: every seq exactly once, in order.
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
      expect(events.map((e) => `${e.step}:${e.state}`).slice(4, 8)).toEqual([
        "3:start",
        "3:success",
        "4:start",
        "4:success",
      ]);
      expect(storedLog(stateDir)).toContain("6 steps, 0 failed");
      expect(run.screen).not.toContain("events unsent");
    } finally {
      await mp.close();
    }
  });

  it("with the MP gone for good, unsent events go into the engine's log and the deployment still ends", async () => {
    const signal = join(fx.dir, "signals-gone");
    mkdirSync(signal, { recursive: true });
    const mp = await startMp([
      {
        name: "Take MP down",
        type: "run-command",
        command: `touch ${signal}/asked; while [ ! -f ${signal}/done ]; do sleep 0.2; done`,
      },
      { name: "Two", type: "run-command", command: "echo two" },
    ]);
    const controller = (async () => {
      while (!existsSync(join(signal, "asked"))) await new Promise((r) => setTimeout(r, 100));
      await mp.close();
      writeFileSync(join(signal, "done"), "");
    })();
    const run = await runEngine(mp.url);
    await controller;
    expect(run.continued, run.stdout + run.stderr).toBe(true);
    expect(run.markers.at(-1)).toEqual({ event: "task-sequence-done", steps: 2, failed: 0 });
    const log = readFileSync(join(run.work, "ts/engine.log"), "utf8");
    expect(log).toContain("4 events could not be sent to the management point");
    expect(log).toMatch(/"seq":5,"step":0,"of":2,"name":"BM200010","state":"success"/);
    expect(run.screen).toMatch(/Status to the management point \.+ \S*failed\s*\S* 4 events unsent/);
  });

  it("run-command with a package: its files from the content locations in order (size and sha256 checked), the command in their folder", async () => {
    const lib = join(fx.dir, "lib");
    const src = join(fx.dir, "pkg-src");
    mkdirSync(join(src, "sub dir"), { recursive: true });
    writeFileSync(join(src, "tool.sh"), 'echo "tool runs in $(basename "$PWD")"\n');
    writeFileSync(join(src, "sub dir/data 1.txt"), "data from the package\n");
    await addFolder(lib, src, "prestart", { id: "PKG1" });
    await addFolder(lib, src, "prestart", { id: "PKG2" });
    rmSync(join(lib, "packages/PKG2/files/tool.sh")); // listed in the manifest, served by no one
    const requests: string[] = [];
    const bad = await serveLibrary({ root: lib, intercept: corrupt((rel) => rel.endsWith("tool.sh")) });
    const good = await serveLibrary({ root: lib, log: (line) => requests.push(line) });
    const stateDir = join(fx.dir, "state-package");
    const mp = await startMp(
      [
        { name: "From package", type: "run-command", package: "PKG1", command: 'sh tool.sh; cat "sub dir/data 1.txt"' },
        { name: "Again", type: "run-command", package: "PKG1", command: "ls" },
        { name: "Missing file", type: "run-command", package: "PKG2", command: "echo never", continueOnError: true },
      ],
      {
        stateDir,
        site: {
          library: lib,
          distributionPoints: [
            { name: "DP0", url: "http://127.0.0.1:9" },
            { name: "DP1", url: bad.url },
            { name: "DP2", url: good.url },
          ],
        },
      },
    );
    try {
      const run = await runEngine(mp.url);
      expect(run.continued, readFileSync(join(run.work, "ts/engine.log"), "utf8")).toBe(true);
      const events = storedEvents(stateDir);
      expect(events.find((e) => e.step === 1 && e.state === "success")?.message).toBe(
        "tool runs in PKG1\ndata from the package",
      );
      expect(events.find((e) => e.step === 2 && e.state === "success")?.message).toBe("sub dir\ntool.sh");
      expect(events.find((e) => e.step === 3 && e.state === "failure")?.message).toBe(
        "package PKG2: not downloaded: tool.sh",
      );
      expect(run.markers.at(-1)).toEqual({ event: "task-sequence-done", steps: 3, failed: 1 });
      // DP0 is down; DP1 serves data 1.txt intact but tool.sh corrupt, so only tool.sh comes from
      // DP2, once: the second step reuses the folder.
      expect(requests.filter((l) => l.includes("/packages/PKG1/"))).toEqual([
        "GET /packages/PKG1/files/tool.sh 200 39",
      ]);
    } finally {
      await Promise.all([mp.close(), bad.close(), good.close()]);
    }
  });

  it("over https with mutual TLS (openssl s_client): the events and the log reach the MP", async () => {
    const pki = makePki(fx.dir, "ts-ca");
    const server = pki.issue("ts-mp", "server");
    const client = pki.issue("ts-media", "client");
    const stateDir = join(fx.dir, "state-tls");
    const mp = await startManagementPoint({
      site: siteWith([{ name: "Over TLS", type: "run-command", command: "echo secure" }]),
      name: "MP1",
      stateDir,
      tls: { cert: server.certPem, key: server.keyPem, ca: pki.ca.certPem },
    });
    try {
      expect(mp.url).toMatch(/^https:/);
      const run = await runEngine(mp.url, { cert: client, caPath: pki.ca.certPath });
      expect(run.continued, run.stdout + run.stderr).toBe(true);
      expect(storedEvents(stateDir).map((e) => `${e.seq}:${e.step}:${e.state}`)).toEqual([
        "1:1:start",
        "2:1:success",
        "3:0:success",
      ]);
      expect(storedLog(stateDir)).toContain("| secure");
    } finally {
      await mp.close();
    }
  });
});
