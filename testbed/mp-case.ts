/**
 * The management points of one testbed case: started on loopback before QEMU, reachable from
 * the guest only through the case's restricted network (mp/network.ts), stopped after it;
 * their request logs go into the case folder and the results.
 */
import { writeFile } from "node:fs/promises";
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
import type { MpState } from "../backends/mp/state.ts";

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
  at: number;
}

export interface StartedCaseMps {
  network: MpGuestNetwork;
  /** Swaps the plain `-netdev` of a QEMU command line for the MP network. */
  applyTo(qemuArgs: readonly string[]): string[];
  /** The status events the running MPs accepted so far (a deploy case waits for `deployed`). */
  statusEvents(): CaseStatusEvent[];
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
      at: time,
    }),
  );
}

/** `extra`: other servers the guest reaches through the same network (a deploy case's DPs). */
export async function startCaseManagementPoints(
  spec: CaseManagementPoints,
  opts: { extra?: readonly ExtraGuestRoute[] } = {},
): Promise<StartedCaseMps> {
  const running: Array<RunningMp | undefined> = [];
  try {
    for (const mp of spec.mps) {
      if (mp.url !== undefined || !mp.up) {
        running.push(undefined);
        continue;
      }
      if (!spec.site) throw new Error(`management point ${mp.name}: the testbed starts it, so the case needs a site`);
      running.push(
        await startManagementPoint({
          site: spec.site,
          siteDir: spec.siteDir,
          name: mp.name,
          tls: mp.tls,
          now: spec.now,
          loopbackOnly: true,
        }),
      );
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
      finish: async (caseDir, relDir) => {
        await Promise.all(running.map((mp) => mp?.close()));
        return Promise.all(
          spec.mps.map(async (mp, i) => {
            const requests = [...(running[i]?.requests ?? [])];
            const status = statusOf(running[i]);
            const file = `mp-${mp.name}.json`;
            const external = mp.url !== undefined ? { external: mp.url } : {};
            await writeFile(
              join(caseDir, file),
              `${JSON.stringify({ name: mp.name, guestUrl: network.routes[i]!.guestUrl, up: mp.up, ...external, requests, ...(status.length ? { status } : {}) }, null, 2)}\n`,
            );
            return {
              name: mp.name,
              guestUrl: network.routes[i]!.guestUrl,
              up: mp.up,
              requests,
              log: join(relDir, file),
              ...external,
              ...(status.length ? { status } : {}),
            };
          }),
        );
      },
    };
  } catch (error) {
    await Promise.all(running.map((mp) => mp?.close()));
    throw error;
  }
}
