/**
 * A deploy case (docs/testbed.md, "Deploy cases"): a machine with a blank disk boots the media,
 * runs its task sequence against the case's MPs and DPs and restarts; the testbed then boots the
 * same machine from the disk alone (the same UEFI variables, the media removed) and the case
 * passes only on the installed OS's marker with the policy's computer name, after the MP heard
 * every step and the installed OS's `deployed`.
 */
import { copyFile, rm, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import { join } from "node:path";
import { PROFILES, buildQemuArgs, type Accel, type MachineProfile } from "./profiles.ts";
import type { Marker, SerialEvent } from "./markers.ts";
import { QemuSession } from "./qemu-session.ts";
import { DEFAULT_ANSWERS, type PromptAnswers } from "./answers.ts";
import { decideVerdict, type Actual, type Expected } from "./verdict.ts";
import type { TestCase } from "./matrix.ts";
import { startCaseManagementPoints, type CaseMpLog, type CaseStatusEvent, type StartedCaseMps } from "./mp-case.ts";
import { judgeTaskSequenceCase, type CaseTaskSequenceReport } from "./ts-case.ts";
import { superviseQemu, type CaseTimings } from "./supervise.ts";
import { createBlankDisk } from "./deploy-disk.ts";
import { startCaseDistributionPoints, type StartedDps } from "./deploy-dps.ts";
import { keepMediaLogs } from "./deploy-media-logs.ts";
import { DEPLOY_TIMEOUTS, type CaseDeploy, type CaseDeployReport, type DeployBoot } from "./deploy-types.ts";

/** What runCase hands a deploy case: its folders and machine, decided by the runner. */
interface DeployRun {
  caseDir: string;
  relDir: string;
  /** A short temp folder (sockets, the vars copy, the disk unless kept), removed by the runner. */
  scratch: string;
  memoryMiB: number;
  accel: Accel;
  timeoutSec: number;
  silenceSec: number;
  answers?: PromptAnswers;
  onSerialEvent?: (e: SerialEvent) => void;
}

/** What the runner turns into the case's result. */
interface DeployOutcome {
  expected: Expected;
  actual: Actual;
  markers: Marker[];
  exitStatus: number | null;
  timings: CaseTimings;
  managementPoints?: CaseMpLog[];
  taskSequence?: CaseTaskSequenceReport;
  deploy: CaseDeployReport;
  screenshot: string | null;
  /** The last boot's VGA text screen (relative), when it had one. */
  screenText?: string;
}

/** How long after the installed OS's marker the testbed waits for its `deployed` at the MP. */
const DEPLOYED_WAIT_MS = 90_000;
/**
 * After an outage the installed OS first delivers every event the engine queued (one signed
 * post each: ~2 s under TCG, 40-odd for a deploy's progress reports), then `deployed`.
 */
const DEPLOYED_WAIT_AFTER_OUTAGE_MS = 300_000;
/** How long after `installedScreenAfter`'s serial text the screen is photographed. */
const SCREEN_SETTLE_MS = 2000;
/** How long the installed OS gets to shut down after the power button. */
const POWERDOWN_MS = 60_000;

/** Milestones of the first boot, by marker (the bench splits power-on to installed OS by them). */
function milestoneOf(m: Marker): string | undefined {
  if (m.event === "booted") return "media-booted";
  if (m.event === "policy") return "policy";
  if (m.event === "step" && typeof m.type === "string" && m.type === "apply-image")
    return m.state === "start" ? "apply-start" : "apply-end";
  if (m.event === "restart") return "restart";
  if (m.event === "installed-os") return "installed-os";
  return undefined;
}

export async function runDeployCase(testCase: TestCase, run: DeployRun): Promise<DeployOutcome> {
  const deploy = testCase.media.deploy!;
  const profile: MachineProfile = PROFILES[testCase.profile];
  const { caseDir, relDir, scratch } = run;
  const diskPath = deploy.keepDisk ? join(caseDir, "disk.raw") : join(scratch, "disk.raw");
  const standalone = deploy.standalone === true;
  // Stand-alone USB media keep the machine's log: the machine gets a writable copy, read back afterwards.
  const writable = standalone && testCase.media.kind === "usb";
  const mediaPath = writable ? join(deploy.keepDisk ? caseDir : scratch, "media.img") : testCase.media.path;
  let dps: StartedDps | undefined;
  let mps: StartedCaseMps | undefined;
  try {
    if (writable) await copyFile(testCase.media.path, mediaPath, constants.COPYFILE_FICLONE);
    if (deploy.disk) await createBlankDisk(diskPath, deploy.disk.sizeBytes);
    const disk = deploy.disk;
    const varsPath = profile.flash ? join(scratch, "vars.fd") : undefined;
    if (profile.flash && varsPath) await copyFile(profile.flash.vars, varsPath);
    const machine = (media: boolean, qmp: string) =>
      buildQemuArgs({
        profile: testCase.profile,
        ...(media ? { media: { kind: testCase.media.kind, path: mediaPath, writable } } : {}),
        ...(disk ? { disk: { path: diskPath, bus: disk.bus, bootindex: media ? 1 : 0 } } : {}),
        nic: testCase.nic,
        qmpSocket: join(scratch, qmp),
        varsPath,
        accel: run.accel,
        memoryMiB: run.memoryMiB,
      });
    dps = await startCaseDistributionPoints(deploy.distributionPoints, { wrap: deploy.dpWrap });
    if (!testCase.media.managementPoints && !standalone)
      throw new Error(`deploy case ${testCase.id}: no management points`);
    // Stand-alone media deploy with no management point (and, as a rule, no network at all).
    mps = testCase.media.managementPoints
      ? await startCaseManagementPoints(testCase.media.managementPoints, {
          extra: dps.routes,
          restartable: deploy.mpOutage !== undefined,
        })
      : undefined;
    const started = mps;
    const withMps = (args: string[]) => started?.applyTo(args) ?? args;

    // The first boot: the media, up to the engine's restart (QEMU's -no-reboot ends it there).
    const milestones1: Record<string, number> = {};
    let policyHook: Promise<void> | undefined;
    const t0 = Date.now();
    const firstArgs = withMps(machine(true, "qmp1.sock"));
    const first = await superviseQemu(
      profile.binary,
      firstArgs,
      join(caseDir, "serial.log"),
      join(caseDir, "screen.png"),
      {
        timeoutSec: deploy.mediaBootSec ?? Math.max(run.timeoutSec, DEPLOY_TIMEOUTS.mediaSec),
        silenceSec: run.silenceSec,
        answers: run.answers ?? testCase.media.answers ?? DEFAULT_ANSWERS,
        scratch,
        ...(testCase.media.standalone ? { discs: testCase.media.standalone.discs } : {}),
        onSerialEvent: (e) => {
          run.onSerialEvent?.(e);
          if (e.kind !== "marker") return;
          const name = milestoneOf(e.marker);
          if (name) milestones1[name] ??= Date.now() - t0;
          if (e.marker.event === "policy")
            policyHook ??= Promise.all([
              deploy.mpOutage &&
                started?.stop().then(() => {
                  milestones1["mps-down"] = Date.now() - t0;
                }),
              started && deploy.afterPolicy?.(started),
            ]).then(() => undefined);
        },
      },
    );
    await policyHook;
    if (first.screenText !== undefined) await writeFile(join(caseDir, "screen.txt"), first.screenText);
    const boots: DeployBoot[] = [
      {
        what: "media",
        serialLog: join(relDir, "serial.log"),
        screenshot: first.screenshot ? join(relDir, "screen.png") : null,
        ...(first.screenText !== undefined ? { screenText: join(relDir, "screen.txt") } : {}),
        exitStatus: first.observation.exitStatus,
        milestones: { "first-serial": first.timings.firstSerialMs ?? -1, ...milestones1 },
      },
    ];
    const restarted = first.observation.markers.some((m) => m.event === "restart");
    let actual = firstBootVerdict(decideVerdict(first.observation), restarted, first.observation.exitStatus);

    let installed: Marker | undefined;
    let deployed: CaseStatusEvent | undefined;
    const secondArgs = withMps(machine(false, "qmp2.sock"));
    if (actual.status === "pass") {
      if (started) await deploy.beforeInstalledBoot?.(started);
      const second = await bootInstalledOs(profile.binary, secondArgs, caseDir, scratch, {
        timeoutSec: deploy.installedBootSec ?? DEPLOY_TIMEOUTS.installedSec,
        silenceSec: run.silenceSec,
        powerdown: deploy.keepDisk === true,
        ...(deploy.installedScreenAfter ? { screenAfter: deploy.installedScreenAfter } : {}),
        deployed: async () =>
          started?.statusEvents().find((e) => e.state === "deployed" && e.deploymentId === deploy.deploymentId) ??
          (await deploy.deployedAt?.()),
        onSerialEvent: run.onSerialEvent,
        // Stand-alone media have no MP to hear `deployed`: the installed OS's marker is the end.
        deployedWaitMs: standalone ? 0 : deploy.mpOutage ? DEPLOYED_WAIT_AFTER_OUTAGE_MS : DEPLOYED_WAIT_MS,
        ...(deploy.mpOutage && started ? { afterInstalled: endOutage(started, deploy.mpOutage.backAfterSec) } : {}),
      });
      boots.push({
        what: "disk",
        serialLog: join(relDir, "serial-2.log"),
        screenshot: second.screenshot ? join(relDir, "screen-2.png") : null,
        ...(second.screenText !== undefined ? { screenText: join(relDir, "screen-2.txt") } : {}),
        exitStatus: second.exitStatus,
        milestones: second.milestones,
      });
      installed = second.installed;
      deployed = second.deployed;
      actual = installedVerdict(second, deploy);
    }
    await writeFile(
      join(caseDir, "qemu.log"),
      `${[profile.binary, ...firstArgs].join(" ")}\n\n${first.stderr}\n${[profile.binary, ...secondArgs].join(" ")}\n`,
    );
    const mpLogs = (await started?.finish(caseDir, relDir)) ?? [];
    mps = undefined;
    const mediaLogs = writable ? await keepMediaLogs(mediaPath, caseDir) : undefined;

    let expected: Expected = testCase.media.expectFailure
      ? { status: "fail", reason: testCase.media.expectFailure }
      : { status: "pass" };
    let taskSequence: CaseTaskSequenceReport | undefined;
    if (testCase.media.taskSequence) {
      // The steps are judged on the first boot's markers and the MP's events of that run.
      const judged = judgeTaskSequenceCase(
        testCase.media.taskSequence,
        first.observation.markers,
        mpLogs.map((mp) => ({ ...mp, status: mp.status?.filter((e) => e.state !== "deployed") })),
        restarted ? { status: "pass" } : actual,
      );
      taskSequence = judged.report;
      if (judged.expected.status === "fail") expected = judged.expected;
      if (judged.actual.status === "fail" && actual.status === "pass") actual = judged.actual;
    }
    const screenText = boots.at(-1)!.screenText ?? boots[0]!.screenText;
    return {
      expected,
      actual,
      markers: [...first.observation.markers, ...(installed ? [installed] : [])],
      exitStatus: first.observation.exitStatus,
      timings: first.timings,
      managementPoints: mpLogs,
      ...(taskSequence ? { taskSequence } : {}),
      screenshot: boots.at(-1)!.screenshot ?? boots[0]!.screenshot,
      ...(screenText !== undefined ? { screenText } : {}),
      deploy: {
        disk: deploy.disk,
        boots,
        ...(installed ? { installed } : {}),
        ...(deployed ? { deployed } : {}),
        dpRequests: dps.requests,
        ...(mediaLogs ? { mediaLogs: mediaLogs.map((f) => join(relDir, f)) } : {}),
        ...(deploy.keepDisk ? { diskFile: join(relDir, "disk.raw") } : {}),
        ...(deploy.keepDisk && writable ? { mediaFile: join(relDir, "media.img") } : {}),
      },
    };
  } finally {
    await mps?.finish(caseDir, relDir).catch(() => undefined);
    await dps?.close();
    if (!deploy.keepDisk) await rm(diskPath, { force: true });
  }
}

/** An outage's end: the MPs start again `sec` seconds after the installed OS's marker. */
function endOutage(mps: StartedCaseMps, sec: number) {
  return async (milestones: Record<string, number>, elapsedMs: () => number) => {
    await new Promise((r) => setTimeout(r, sec * 1000));
    await mps.start();
    milestones["mps-back"] = elapsedMs();
  };
}

/** The first boot passes when the engine restarted the machine: its `restart` marker, then QEMU's exit. */
function firstBootVerdict(boot: Actual, restarted: boolean, exitStatus: number | null): Actual {
  if (boot.status === "fail" && boot.reason !== "no-success-exit") return boot;
  if (restarted && exitStatus === 0) return { status: "pass" };
  return {
    status: "fail",
    reason: "no-restart",
    detail: restarted
      ? `the engine restarted, but QEMU ended with status ${exitStatus ?? "none"}`
      : "the first boot ended without the engine's restart marker",
  };
}

interface InstalledBoot {
  installed?: Marker;
  deployed?: CaseStatusEvent;
  exitStatus: number | null;
  screenshot: boolean;
  screenText?: string;
  milestones: Record<string, number>;
  timedOut: boolean;
  silent: boolean;
  timeoutSec: number;
  deployedWaitMs: number;
}

/** The second boot, from the disk alone: up to the installed OS's marker, then its `deployed` at the MP. */
async function bootInstalledOs(
  binary: MachineProfile["binary"],
  args: string[],
  caseDir: string,
  scratch: string,
  opts: {
    timeoutSec: number;
    silenceSec: number;
    /** Press the power button before stopping the machine (a kept disk is read afterwards). */
    powerdown: boolean;
    screenAfter?: CaseDeploy["installedScreenAfter"];
    deployed: () => Promise<CaseStatusEvent | undefined>;
    onSerialEvent?: (e: SerialEvent) => void;
    /** How long to wait for `deployed` after the marker (and afterInstalled). */
    deployedWaitMs: number;
    /** Called on the installed OS's marker, before the wait for `deployed`; may add milestones. */
    afterInstalled?: (milestones: Record<string, number>, elapsedMs: () => number) => Promise<void>;
  },
): Promise<InstalledBoot> {
  const session = await QemuSession.start(binary, args, {
    serialLog: join(caseDir, "serial-2.log"),
    scratch,
    ...(opts.screenAfter ? { serialPass: opts.screenAfter.serial } : {}),
  });
  if (opts.onSerialEvent) session.onSerialEvent(opts.onSerialEvent);
  let screenReady: () => void = () => undefined;
  const screenShows = new Promise<void>((resolve) => (screenReady = resolve));
  session.onSerialEvent((e) => {
    if (e.kind === "pass") screenReady();
  });
  let timedOut = false;
  let silent = false;
  const deadline = new Promise<undefined>((resolve) => {
    const t = setTimeout(() => {
      timedOut = true;
      resolve(undefined);
    }, opts.timeoutSec * 1000);
    void session.ended.then(() => clearTimeout(t));
  });
  const silence = setTimeout(() => {
    silent = true;
  }, opts.silenceSec * 1000);
  void session.firstByte.then(() => clearTimeout(silence));
  const installed = await Promise.race([session.waitForMarker((m) => m.event === "installed-os"), deadline]);
  const milestones: Record<string, number> = { "first-serial": session.firstSerialMs ?? -1 };
  let deployed: CaseStatusEvent | undefined;
  if (installed) {
    milestones["installed-os"] = session.elapsedMs();
    await opts.afterInstalled?.(milestones, () => session.elapsedMs());
    const until = Date.now() + opts.deployedWaitMs;
    while (!(deployed = await opts.deployed()) && Date.now() < until && session.running)
      await new Promise((r) => setTimeout(r, 500));
    if (deployed) milestones.deployed = session.elapsedMs();
    if (opts.screenAfter) {
      // The text on the serial line, then a moment for the screen's own console to draw the same.
      const waited = await Promise.race([
        screenShows.then(() => true),
        session.ended.then(() => false),
        new Promise<false>((r) => setTimeout(() => r(false), opts.screenAfter!.withinSec * 1000)),
      ]);
      if (waited) {
        milestones.screen = session.elapsedMs();
        await new Promise((r) => setTimeout(r, SCREEN_SETTLE_MS));
      }
    }
  }
  clearTimeout(silence);
  const shot = await session.screenshot(join(caseDir, "screen-2.png"));
  if (shot.text !== undefined) await writeFile(join(caseDir, "screen-2.txt"), shot.text);
  // A clean shutdown, so a kept disk is read clean afterwards; a machine that ignores the button
  // is stopped. A disk that is deleted next needs none: the machine is stopped at once.
  if (installed && opts.powerdown && (await session.powerdown(POWERDOWN_MS))) milestones.poweroff = session.elapsedMs();
  await session.stop();
  const end = await session.close();
  return {
    ...(installed ? { installed } : {}),
    ...(deployed ? { deployed } : {}),
    exitStatus: end.byItself ? (end.exitCode ?? null) : null,
    screenshot: shot.saved,
    ...(shot.text !== undefined ? { screenText: shot.text } : {}),
    milestones,
    timedOut,
    silent: silent && session.firstSerialMs === null,
    timeoutSec: opts.timeoutSec,
    deployedWaitMs: opts.deployedWaitMs,
  };
}

/** The second boot's verdict: the marker, with the policy's computer name, and `deployed` at the MP. */
/** The boot environment's own name for a computer the variables do not name (lib/standalone.sh). */
const DEFAULT_COMPUTER = /^MININT-[0-9A-F]{7}$/i;

function installedVerdict(
  boot: InstalledBoot,
  deploy: Pick<CaseDeploy, "computer" | "standalone" | "deploymentId">,
): Actual {
  const computer = deploy.computer;
  if (!boot.installed)
    return {
      status: "fail",
      reason: "installed-os-missing",
      detail: boot.silent
        ? "the disk printed nothing on the serial console (did it boot at all?)"
        : boot.timedOut
          ? `no installed-os marker within ${boot.timeoutSec} s of booting from the disk`
          : `QEMU ended (status ${boot.exitStatus ?? "none"}) before the installed-os marker`,
    };
  const hostname = boot.installed.hostname;
  const named =
    computer === null
      ? DEFAULT_COMPUTER.test(String(hostname))
      : String(hostname).toLowerCase() === computer.toLowerCase();
  if (typeof hostname !== "string" || !named)
    return {
      status: "fail",
      reason: "hostname-mismatch",
      detail: `the installed OS is ${JSON.stringify(hostname)}; ${computer === null ? "the boot environment names it MININT-XXXXXXX" : `the policy named it ${JSON.stringify(computer)}`}`,
    };
  // Stand-alone media: no MP hears `deployed`; the installed system names the deployment it got (the media).
  if (deploy.standalone)
    return boot.installed.deployment === deploy.deploymentId
      ? { status: "pass" }
      : {
          status: "fail",
          reason: "deployment-mismatch",
          detail: `the installed OS names deployment ${JSON.stringify(boot.installed.deployment)}; the media are ${JSON.stringify(deploy.deploymentId)}`,
        };
  if (!boot.deployed)
    return {
      status: "fail",
      reason: "deployed-not-reported",
      detail: `the installed OS booted, but no MP stored its deployed event within ${boot.deployedWaitMs / 1000} s`,
    };
  return { status: "pass" };
}
