/**
 * Guest network plumbing: QEMU user networking with `restrict=on` (the guest reaches nothing
 * on the host or beyond) plus one `guestfwd` per MP, so guest address 10.0.2.100 (+1 per MP)
 * port 80 (http MPs) or 443 (https MPs) lands on that MP's loopback port.
 *
 * `guestfwd=...-cmd:` spawns the command per guest connection, its stdio being the
 * connection; busybox `nc` (busybox-static, in the doctor's table for the testbed) is the pipe.
 * The `-tcp:host:port` chardev form accepts one connection only in QEMU 7.2, so it is not used.
 */
import { BootmediaError } from "../../base/errors.ts";
import { programName } from "../../core/program.ts";
import "../../backends/mp/codes.ts";
import "./codes.ts";

/** slirp's guest network (QEMU's default) and the MP address block inside it. */
export const GUEST_NETWORK = {
  net: "10.0.2.0/24",
  /** The guest's usual static/DHCP address under slirp. */
  guestIp: "10.0.2.15",
  firstMpHost: 100,
  maxMps: 100,
} as const;

/** The per-connection helper: connects its stdio to the MP's loopback port. */
export const GUESTFWD_HELPER = programName("/bin/busybox");

/** @public reachable from the package's API types. */
export interface RunningMpRef {
  name: string;
  /** The MP's URL as the host reaches it (http://127.0.0.1:PORT, https://mp.lab:8443, …). */
  url: string;
}

export interface MpGuestRoute {
  name: string;
  /** What the guest uses: http://10.0.2.100 or https://10.0.2.101 (default ports). */
  guestUrl: string;
  hostPort: number;
}

export interface MpGuestNetwork {
  /** The `-netdev` value; the NIC device refers to it as `netdev=<id>`. */
  netdev: string;
  /** `-netdev <netdev>`: replaces the testbed's plain `user,id=n0,restrict=on`. */
  args: string[];
  routes: MpGuestRoute[];
  /** Guest URL by MP name, for the simulators' redirect answers (RunningMp.peers). */
  guestUrls: Map<string, string>;
}

/**
 * Another server the guest reaches at an address of its own choosing (a distribution point the
 * site names http://10.0.2.200): its guest address and port, and where the host reaches it.
 */
export interface ExtraGuestRoute {
  name: string;
  guestIp: string;
  guestPort: number;
  /** http://127.0.0.1:PORT */
  url: string;
}

/** Guest addresses for the MPs, in the given order: the first is 10.0.2.100; `extra` routes after them. */
export function planMpNetwork(
  mps: readonly RunningMpRef[],
  opts: { id?: string; extra?: readonly ExtraGuestRoute[] } = {},
): MpGuestNetwork {
  if (mps.length > GUEST_NETWORK.maxMps)
    throw new BootmediaError(
      "BM5303",
      `${mps.length} management points; the guest network holds ${GUEST_NETWORK.maxMps}`,
    );
  const id = opts.id ?? "n0";
  const routes: MpGuestRoute[] = [];
  const parts = [`user,id=${id},restrict=on,net=${GUEST_NETWORK.net}`];
  mps.forEach((mp, i) => {
    const host = parseMpUrl(mp);
    const https = host.protocol === "https:";
    const guestIp = `10.0.2.${GUEST_NETWORK.firstMpHost + i}`;
    const hostPort = Number(host.port || (https ? 443 : 80));
    // QEMU splits options on commas: the command has none (parseMpUrl), so no ",," escaping is needed.
    parts.push(`guestfwd=tcp:${guestIp}:${https ? 443 : 80}-cmd:${GUESTFWD_HELPER} nc ${host.hostname} ${hostPort}`);
    routes.push({ name: mp.name, guestUrl: `${https ? "https" : "http"}://${guestIp}`, hostPort });
  });
  for (const route of opts.extra ?? []) {
    const host = parseMpUrl(route);
    parts.push(
      `guestfwd=tcp:${route.guestIp}:${route.guestPort}-cmd:${GUESTFWD_HELPER} nc ${host.hostname} ${host.port || 80}`,
    );
  }
  const netdev = parts.join(",");
  return { netdev, args: ["-netdev", netdev], routes, guestUrls: new Map(routes.map((r) => [r.name, r.guestUrl])) };
}

/**
 * An MP's host URL: http(s) to an IPv4 address or a host name. The guest reaches that one
 * address and port through its guestfwd and nothing else (restrict=on stays).
 */
function parseMpUrl(mp: RunningMpRef): URL {
  let url: URL;
  try {
    url = new URL(mp.url);
  } catch {
    throw new BootmediaError("BM5018", `management point ${mp.name}: ${JSON.stringify(mp.url)} is not a URL`);
  }
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    !/^[A-Za-z0-9.-]+$/.test(url.hostname) ||
    (url.pathname !== "/" && url.pathname !== "")
  )
    throw new BootmediaError(
      "BM5018",
      `management point ${mp.name}: ${mp.url} is not http(s)://HOST[:PORT] (an IPv4 address or a host name, no path)`,
    );
  return url;
}

/** Swaps the `-netdev` value in a QEMU argument vector (buildQemuArgs) for the MP network's. */
export function withMpNetwork(qemuArgs: readonly string[], network: MpGuestNetwork): string[] {
  const out = [...qemuArgs];
  const i = out.indexOf("-netdev");
  if (i < 0) throw new Error("the QEMU command line has no -netdev (the case has no NIC)");
  out[i + 1] = network.netdev;
  return out;
}
