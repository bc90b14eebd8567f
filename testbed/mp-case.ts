/**
 * The management points of one testbed case: started on loopback before QEMU, reachable from
 * the guest only through the case's restricted network (mp/network.ts), stopped after it;
 * their request logs go into the case folder and the results.
 */
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { planMpNetwork, withMpNetwork, type MpGuestNetwork } from "./mp/network.ts";
import {
  startManagementPoint,
  MP_BIND_HOST,
  type MpRequestLogEntry,
  type MpTls,
  type RunningMp,
} from "../backends/mp/server.ts";
import type { Site, SiteInput } from "../backends/mp/site.ts";

/** What a case starts: a site and its MPs in guest-address order (the first is 10.0.2.100). */
export interface CaseManagementPoints {
  site: Site | SiteInput;
  mps: ReadonlyArray<{
    /** The MP's name in the site database. */
    name: string;
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
}

export interface StartedCaseMps {
  network: MpGuestNetwork;
  /** Swaps the plain `-netdev` of a QEMU command line for the MP network. */
  applyTo(qemuArgs: readonly string[]): string[];
  /** Stops the running MPs and writes `mp-<name>.json` per MP into the case folder. */
  finish(caseDir: string, relDir: string): Promise<CaseMpLog[]>;
}

/** A loopback port nothing listens on: bound once by the OS, then released. */
async function findClosedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, MP_BIND_HOST, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startCaseManagementPoints(spec: CaseManagementPoints): Promise<StartedCaseMps> {
  const running: Array<RunningMp | undefined> = [];
  try {
    for (const mp of spec.mps) {
      running.push(
        mp.up
          ? await startManagementPoint({
              site: spec.site,
              name: mp.name,
              tls: mp.tls,
              now: spec.now,
              loopbackOnly: true,
            })
          : undefined,
      );
    }
    const refs = await Promise.all(
      spec.mps.map(async (mp, i) => ({
        name: mp.name,
        url: running[i]?.url ?? `${mp.tls ? "https" : "http"}://${MP_BIND_HOST}:${await findClosedPort()}`,
      })),
    );
    const network = planMpNetwork(refs);
    // Redirects name the guest URL of a running MP; a down boundary MP is left out (the MP serves the client).
    for (const mp of running) {
      for (const [i, other] of running.entries()) if (other) mp?.peers.set(other.name, network.routes[i]!.guestUrl);
    }
    return {
      network,
      applyTo: (args) => withMpNetwork(args, network),
      finish: async (caseDir, relDir) => {
        await Promise.all(running.map((mp) => mp?.close()));
        return Promise.all(
          spec.mps.map(async (mp, i) => {
            const requests = [...(running[i]?.requests ?? [])];
            const file = `mp-${mp.name}.json`;
            await writeFile(
              join(caseDir, file),
              `${JSON.stringify({ name: mp.name, guestUrl: network.routes[i]!.guestUrl, up: mp.up, requests }, null, 2)}\n`,
            );
            return {
              name: mp.name,
              guestUrl: network.routes[i]!.guestUrl,
              up: mp.up,
              requests,
              log: join(relDir, file),
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
