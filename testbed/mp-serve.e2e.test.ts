/**
 * The management point users run, end to end, as processes: `bootmedia build` makes an ISO,
 * `bootmedia mp serve` serves a site with a three-step task sequence, `bootmedia testbed
 * --mp` boots the ISO in QEMU against that process (not an in-process simulator), and
 * `bootmedia mp status` reads what it stored. The MP is killed with SIGKILL mid-deployment
 * and restarted on the same state dir; later the site is reloaded (SIGHUP) with a sequence
 * whose second step fails without continueOnError. Oracles: the serial markers, the VGA text
 * screen, `mp status`, the MP's journal and stored logs. Needs `npm run fixtures`.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { readJournal } from "../backends/mp/journal.ts";
import { buildReferenceImages } from "../fixtures/boot-images/build.ts";
import { bootmedia } from "../testing/cli.ts";
import { deployMediaSpec } from "./testing/deploy-media.ts";
import { ServeProcess } from "../backends/mp/testing/serve-process.ts";
import { freeLoopbackPort } from "../base/free-port.ts";

const GUEST_MAC = "52:54:00:12:34:56";
const env = { MEDIA_PW: "Correct-Horse-Battery-9" };

let dir = "";
let iso = "";
let siteFile = "";
let stateDir = "";
let port = 0;
let serve: ServeProcess | undefined;

/** `mp serve` on the test's site, port and state dir, with its JSON request log. */
const startServe = () =>
  new ServeProcess(["--site", siteFile, "--listen", `127.0.0.1:${port}`, "--state-dir", stateDir, "--json"]);

function site(deployment: string, steps: unknown[]): string {
  const der = readFileSync(iso.replace(/\.iso$/, ".cer")).toString("base64");
  return stringify({
    siteCode: "BM1",
    managementPoints: ["MP1"],
    computers: [{ name: "PC-GUEST", mac: GUEST_MAC }],
    taskSequences: [{ id: "BM200010", name: "Contoso desktop", steps }],
    deployments: [{ id: deployment, taskSequence: "BM200010", target: "all", variables: { Greeting: "hello" } }],
    certificates: [{ der }],
  });
}

/** `testbed <iso> --mp <the mp serve process>` on x64 BIOS; its results.json. */
async function bootAgainstMp(report: string) {
  const r = await bootmedia(
    [
      "testbed",
      iso,
      "--mp",
      `http://127.0.0.1:${port}`,
      "--profiles",
      "x64-bios",
      "--nics",
      "e1000",
      "--answer",
      "password=env:MEDIA_PW",
      "--timeout",
      "300",
      "--report-dir",
      join(dir, report),
    ],
    { env, cwd: dir },
  );
  const results = JSON.parse(readFileSync(join(dir, report, "results.json"), "utf8")) as {
    cases: Array<{
      actual: { status: string; reason?: string };
      markers: Array<Record<string, unknown>>;
      screenText?: string;
    }>;
  };
  const c = results.cases[0]!;
  const screen = c.screenText ? readFileSync(join(dir, report, c.screenText), "utf8") : "";
  return { exitCode: r.exitCode, stderr: r.stderr, case: c, screen };
}

async function mpStatus() {
  const r = await bootmedia(["mp", "status", "--state-dir", stateDir, "--json"]);
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { computers: Array<Record<string, unknown>> }).computers;
}

/** The journal's status events of one deployment: [step, state, exitCode] in stored order. */
async function storedEvents(deployment: string) {
  const { records } = await readJournal(join(stateDir, "journal.jsonl"));
  return (records as Array<{ t: string; event?: Record<string, unknown> }>)
    .filter((r) => r.t === "status" && r.event!.deploymentId === deployment)
    .map((r) => [r.event!.step, r.event!.state, r.event!.exitCode]);
}

beforeAll(async () => {
  await buildReferenceImages({ log: () => {} });
  dir = await mkdtemp(join(tmpdir(), "bm-mp-serve-"));
  writeFileSync(join(dir, "media.yaml"), deployMediaSpec({ name: "ts-demo" }));
  const built = await bootmedia(["build", join(dir, "media.yaml")], { env, cwd: dir });
  expect(built.exitCode, built.stderr).toBe(0);
  iso = join(dir, "ts-demo.iso");
  siteFile = join(dir, "site.yaml");
  stateDir = join(dir, "state");
  port = await freeLoopbackPort();
}, 600_000);
afterAll(async () => {
  serve?.proc.kill("SIGTERM");
  await serve?.proc;
});

describe("a medium booted against `bootmedia mp serve`", () => {
  it("runs three steps (screen output, a variable, a tolerated failure) through a kill -9 of the MP", async () => {
    writeFileSync(
      siteFile,
      site("DEP-TS", [
        {
          name: "Say hello",
          type: "run-command",
          // Long enough for the MP to be killed and restarted while it runs.
          command: 'echo "Deploying %OSDComputerName%, %Greeting% (%_SMSTSMediaType%)"; sleep 12',
        },
        { name: "Remember", type: "set-variable", variable: "Stage", value: "greeted %Greeting%" },
        {
          name: "Optional check",
          type: "run-command",
          // Exit 3 only when Stage was set and expanded: the failure proves the variable.
          command: 'test "%Stage%" = "greeted hello" && exit 3; exit 1',
          continueOnError: true,
        },
      ]),
    );
    serve = startServe();
    await serve.waitFor((l) => l.event === "listening");
    const boot = bootAgainstMp("report-1");
    // The first step started (its event is on disk): kill the MP without warning, start it again.
    await serve.waitFor(
      (l) => l.event === "request" && l.path === "/bootmedia/v1/status" && l.result === "accepted",
      300_000,
    );
    serve.proc.kill("SIGKILL");
    await serve.proc;
    serve = startServe();
    await serve.waitFor((l) => l.event === "listening");
    const run = await boot;
    expect(run.case.actual, run.stderr).toEqual({ status: "pass" });
    expect(run.case.markers).toContainEqual({ event: "task-sequence-done", steps: 3, failed: 1 });
    // The boot screen: each step's output, ok / failed, and what ran.
    expect(run.screen).toContain("Deploying PC-GUEST, hello (BootMedia)");
    expect(run.screen).toMatch(/Step 2 of 3 \.+ ok +Remember/);
    expect(run.screen).toMatch(/Step 3 of 3 \.+ failed +Optional check \(exit 3\)/);
    expect(run.screen).toContain("Done: task sequence BM200010 for PC-GUEST, 3 steps, 1 failed.");

    expect(await mpStatus()).toEqual([
      expect.objectContaining({
        computer: "PC-GUEST",
        mac: GUEST_MAC,
        deploymentId: "DEP-TS",
        step: 3,
        stepCount: 3,
        state: "succeeded",
        failures: 1,
      }),
    ]);
    const [computer] = await mpStatus();
    const log = join(stateDir, "logs", GUEST_MAC.replace(/:/g, ""), `DEP-TS.${String(computer!.run)}.log`);
    expect(readFileSync(log, "utf8")).toContain("Deploying PC-GUEST, hello");
    // Every step's events exactly once, across the restart.
    expect(await storedEvents("DEP-TS")).toEqual([
      [1, "start", undefined],
      [1, "success", 0],
      [2, "start", undefined],
      [2, "success", undefined],
      [3, "start", undefined],
      [3, "failure", 3],
      [0, "success", undefined],
    ]);
  }, 900_000);

  it("a step failing without continueOnError: the failure screen names it, the MP shows it failed, the log is uploaded, later steps never ran", async () => {
    writeFileSync(
      siteFile,
      site("DEP-FAIL", [
        { name: "Prepare", type: "run-command", command: "echo preparing" },
        { name: "Must work", type: "run-command", command: "echo about to fail; exit 4" },
        { name: "Never runs", type: "run-command", command: "echo should-not-run" },
      ]),
    );
    serve!.proc.kill("SIGHUP");
    await serve!.waitFor((l) => l.event === "reload" && l.ok === true);
    const run = await bootAgainstMp("report-2");
    expect(run.exitCode).toBe(1); // the testbed expected the deployment to pass
    expect(run.case.actual).toMatchObject({ status: "fail", reason: "task-sequence-failed" });
    expect(run.case.markers).toContainEqual(
      expect.objectContaining({ event: "error", reason: "task-sequence-failed", step: 2, name: "Must work" }),
    );
    expect(run.screen).toContain("Stopped: this computer cannot be deployed.");
    expect(run.screen).toMatch(/step 2, Must\s+work failed/);
    expect(run.screen).not.toContain("should-not-run");

    const status = await mpStatus();
    expect(status).toEqual([
      expect.objectContaining({ deploymentId: "DEP-FAIL", step: 2, stepCount: 3, state: "failed", failures: 1 }),
    ]);
    expect(await storedEvents("DEP-FAIL")).toEqual([
      [1, "start", undefined],
      [1, "success", 0],
      [2, "start", undefined],
      [2, "failure", 4],
      [0, "failure", undefined],
    ]);
    const log = join(stateDir, "logs", GUEST_MAC.replace(/:/g, ""), `DEP-FAIL.${String(status[0]!.run)}.log`);
    expect(existsSync(log)).toBe(true);
    expect(readFileSync(log, "utf8")).toContain("about to fail");
    expect(readFileSync(log, "utf8")).not.toContain("should-not-run");
  }, 900_000);
});
