/**
 * The management points of one testbed case: started on loopback before QEMU, reachable from
 * the guest only through the case's restricted network (mp/network.ts), stopped after it;
 * their request logs go into the case folder and the results.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeLoopbackPort } from "../base/free-port.ts";
import { planMpNetwork, withMpNetwork, type ExtraGuestRoute, type MpGuestNetwork } from "./mp/network.ts";
import {
  startManagementPoint,
  MP_BIND_HOST,
  type MpRequestLogEntry,
  type MpTls,
  type RunningMp,
} from "../backends/mp/server.ts";
import type { Site, SiteInput } from "../backends/mp/site.ts";
import { logFileName, type ComputerStatus, type MpState } from "../backends/mp/state.ts";

/**
 * What a case starts: a site and its MPs in guest-address order (the first is 10.0.2.100).
 * An MP with a `url` is one the user runs (`bootmedia mp serve`): the testbed routes the
 * guest to it and neither starts nor stops it; a case of only such MPs needs no site.
 */
export interface CaseManagementPoints {
  site?: Site | SiteInput;
  /** Where the site's relative `library` is (the site file's folder). */
  siteDir?: string;
  mps: ReadonlyArray<{
    /** The MP's name in the site database (for an external MP: a label in the report). */
    name: string;
    /** An MP already running, as the host reaches it (http://127.0.0.1:8080). */
    url?: string;
    /** A down MP is not started: its guest address forwards to a closed loopback port. */
    up: boolean;
    /** HTTPS with mutual TLS (PKI media); its guest URL is then https://10.0.2.1xx. */
    tls?: MpTls;
  }>;
  /** The MPs' clock in seconds (e.g. after the media certificate expired); default: the host's. */
  now?: () => number;
}

/** One MP's part of a case result. */
export interface CaseMpLog {
  name: string;
  guestUrl: string;
  up: boolean;
  requests: MpRequestLogEntry[];
  /** Relative to the report folder. */
  log: string;
  /** The host URL of an MP the testbed did not start (its requests are in its own log). */
  external?: string;
  /** The task-sequence status events the MP accepted (each once), with when (seconds, the MP's clock). */
  status?: CaseStatusEvent[];
  /** The MP's status lines (what `mp status` shows): each computer's latest deployment run. */
  computers?: ComputerStatus[];
  /** The engine logs the machine uploaded to this MP, one file per run (`mp-<name>-logs/…`). */
  uploadedLogs?: CaseUploadedLog[];
}

export interface CaseUploadedLog {
  deploymentId: string;
  run: string;
  /** Relative to the report folder. */
  file: string;
  bytes: number;
}

export interface CaseStatusEvent {
  deploymentId: string;
  /** The engine's run of the deployment (one per boot). */
  run: string;
  seq: number;
  step: number;
  name: string;
  state: string;
  exitCode?: number;
  /** The event's message: a failed disk step's starts with its code (`no-disk: …`). */
  message?: string;
  at: number;
}

export interface StartedCaseMps {
  network: MpGuestNetwork;
  /** Swaps the plain `-netdev` of a QEMU command line for the MP network. */
  applyTo(qemuArgs: readonly string[]): string[];
  /** The status events the running MPs accepted so far (a deploy case waits for `deployed`). */
  statusEvents(): CaseStatusEvent[];
  /** Stops the MPs the testbed started (an outage); their addresses then refuse connections. */
  stop(): Promise<void>;
  /** Starts them again after stop(): the same ports and state (started with `restartable`). */
  start(): Promise<void>;
  /** Stops the running MPs and writes `mp-<name>.json` per MP into the case folder. */
  finish(caseDir: string, relDir: string): Promise<CaseMpLog[]>;
}

function statusOf(mp: RunningMp | undefined): CaseStatusEvent[] {
  return caseStatusEvents(mp?.state.eventRecords() ?? []);
}

/** An MP state's accepted events (MpState.eventRecords) as a case reports them. */
export function caseStatusEvents(records: ReturnType<MpState["eventRecords"]>): CaseStatusEvent[] {
  return records.map(
    ({ event: e, time }): CaseStatusEvent => ({
      deploymentId: e.deploymentId,
      run: e.run,
      seq: e.seq,
      step: e.step,
      name: e.name,
      state: e.state,
      ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
      ...(e.message !== undefined ? { message: e.message } : {}),
      at: time,
    }),
  );
}

/**
 * `extra`: other servers the guest reaches through the same network (a deploy case's DPs);
 * `restartable`: each MP keeps its state in a folder of its own, so stop() and start() bring
 * it back as it was (an outage case).
 */
export async function startCaseManagementPoints(
  spec: CaseManagementPoints,
  opts: { extra?: readonly ExtraGuestRoute[]; restartable?: boolean } = {},
): Promise<StartedCaseMps> {
  const running: Array<RunningMp | undefined> = [];
  const stateDirs: Array<string | undefined> = [];
  // Requests of the MPs' earlier lives (before a stop), by MP.
  const earlier: MpRequestLogEntry[][] = spec.mps.map(() => []);
  const launch = async (i: number, port?: number) =>
    startManagementPoint({
      site: spec.site!,
      siteDir: spec.siteDir,
      name: spec.mps[i]!.name,
      tls: spec.mps[i]!.tls,
      now: spec.now,
      loopbackOnly: true,
      ...(stateDirs[i] ? { stateDir: stateDirs[i] } : {}),
      ...(port !== undefined ? { port } : {}),
    });
  const removeStateDirs = () =>
    Promise.all(stateDirs.map((d) => (d ? rm(d, { recursive: true, force: true }) : undefined)));
  const ports: number[] = [];
  let stopped = false;
  try {
    for (const [i, mp] of spec.mps.entries()) {
      if (mp.url !== undefined || !mp.up) {
        running.push(undefined);
        stateDirs.push(undefined);
        continue;
      }
      if (!spec.site) throw new Error(`management point ${mp.name}: the testbed starts it, so the case needs a site`);
      stateDirs.push(opts.restartable ? await mkdtemp(join(tmpdir(), "bm-case-mp-")) : undefined);
      const started = await launch(i);
      running.push(started);
      ports[i] = started.port;
    }
    const refs = await Promise.all(
      spec.mps.map(async (mp, i) => ({
        name: mp.name,
        url:
          (mp.up ? mp.url : undefined) ??
          running[i]?.url ??
          `${mp.tls ? "https" : "http"}://${MP_BIND_HOST}:${await freeLoopbackPort()}`,
      })),
    );
    const network = planMpNetwork(refs, { extra: opts.extra ?? [] });
    // Redirects name the guest URL of a running MP; a down boundary MP is left out (the MP serves the client).
    for (const mp of running) {
      for (const [i, other] of running.entries()) if (other) mp?.peers.set(other.name, network.routes[i]!.guestUrl);
    }
    return {
      network,
      applyTo: (args) => withMpNetwork(args, network),
      statusEvents: () => running.flatMap(statusOf),
      stop: async () => {
        if (!opts.restartable) throw new Error("stop(): the case's MPs were not started restartable");
        stopped = true;
        await Promise.all(
          running.map(async (mp, i) => {
            if (!mp) return;
            earlier[i]!.push(...mp.requests);
            await mp.close();
          }),
        );
      },
      start: async () => {
        if (!stopped) return;
        for (const [i, mp] of running.entries()) if (mp) running[i] = await launch(i, ports[i]);
        for (const mp of running) {
          for (const [i, other] of running.entries()) if (other) mp?.peers.set(other.name, network.routes[i]!.guestUrl);
        }
        stopped = false;
      },
      finish: async (caseDir, relDir) => {
        if (!stopped) await Promise.all(running.map((mp) => mp?.close()));
        const logs = await Promise.all(
          spec.mps.map(async (mp, i) => {
            const requests = [...earlier[i]!, ...(stopped ? [] : (running[i]?.requests ?? []))];
            const status = statusOf(running[i]);
            const computers = running[i]?.state.computers() ?? [];
            const uploadedLogs = await keepUploadedLogs(running[i], mp.name, caseDir, relDir);
            const file = `mp-${mp.name}.json`;
            const external = mp.url !== undefined ? { external: mp.url } : {};
            const kept = {
              ...external,
              ...(status.length ? { status } : {}),
              ...(computers.length ? { computers } : {}),
              ...(uploadedLogs.length ? { uploadedLogs } : {}),
            };
            await writeFile(
              join(caseDir, file),
              `${JSON.stringify({ name: mp.name, guestUrl: network.routes[i]!.guestUrl, up: mp.up, requests, ...kept }, null, 2)}\n`,
            );
            return {
              name: mp.name,
              guestUrl: network.routes[i]!.guestUrl,
              up: mp.up,
              requests,
              log: join(relDir, file),
              ...kept,
            };
          }),
        );
        // The uploaded logs are read from the state folders above: removed only now.
        await removeStateDirs();
        return logs;
      },
    };
  } catch (error) {
    await Promise.all(running.map((mp) => mp?.close()));
    await removeStateDirs();
    throw error;
  }
}

/** The logs a testbed MP (memory only) took, each run's into `mp-<name>-logs/<deploymentId>.<run>.log`. */
async function keepUploadedLogs(
  mp: RunningMp | undefined,
  name: string,
  caseDir: string,
  relDir: string,
): Promise<CaseUploadedLog[]> {
  if (!mp) return [];
  const runs = new Map<string, { mac: string; deploymentId: string; run: string }>();
  for (const e of mp.state.events()) runs.set(`${e.mac}\t${e.deploymentId}\t${e.run}`, e);
  const out: CaseUploadedLog[] = [];
  for (const { mac, deploymentId, run } of runs.values()) {
    const log = await mp.state.readLog(mac, deploymentId, run);
    if (!log) continue;
    const file = join(`mp-${name}-logs`, logFileName(deploymentId, run));
    await mkdir(join(caseDir, `mp-${name}-logs`), { recursive: true });
    await writeFile(join(caseDir, file), log);
    out.push({ deploymentId, run, file: join(relDir, file), bytes: log.length });
  }
  return out;
}
