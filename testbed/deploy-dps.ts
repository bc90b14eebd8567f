/**
 * The distribution points of a deploy case: the site's library served by the real DP server
 * (`bootmedia dp serve`'s serveLibrary) on loopback, or a DP the user runs, each reached by the
 * guest at the address the site names (http://10.0.2.200) through the case's restricted network.
 */
import { resolve } from "node:path";
import { BootmediaError } from "../base/errors.ts";
import { serveLibrary, type LibraryServer } from "../plugins/distribution-point/server.ts";
import { GUEST_NETWORK, type ExtraGuestRoute } from "./mp/network.ts";
import "./codes.ts";

export interface CaseDistributionPoint {
  name: string;
  /** What the guest uses, as the site names it: http://10.0.2.200[:PORT]. */
  guestUrl: string;
  /** A library folder the testbed serves… */
  root?: string;
  /** …or a DP already running, as the host reaches it (http://127.0.0.1:8080). */
  url?: string;
}

/** A test's hook between the guest and a DP (a fault proxy): gets the DP's host URL, gives the one to route to. */
export type DpWrap = (dp: string, url: string) => Promise<{ url: string; close(): Promise<void> }>;

export interface StartedDps {
  routes: ExtraGuestRoute[];
  /** One line per request the served DPs answered (method, path, status, bytes). */
  requests: string[];
  close(): Promise<void>;
}

/** The guest address and port of a DP URL; BM5402 unless http://10.0.2.N[:PORT] outside the MP block. */
export function dpGuestAddress(dp: Pick<CaseDistributionPoint, "name" | "guestUrl">): { ip: string; port: number } {
  const bad = (why: string) =>
    new BootmediaError("BM5402", `distribution point ${dp.name}: ${dp.guestUrl} ${why}`, { where: dp.guestUrl });
  let url: URL;
  try {
    url = new URL(dp.guestUrl);
  } catch {
    throw bad("is not a URL");
  }
  if (url.protocol !== "http:") throw bad("is not http:// (the testbed serves its DPs over HTTP)");
  const m = /^10\.0\.2\.(\d{1,3})$/.exec(url.hostname);
  const host = m ? Number(m[1]) : -1;
  if (host < 2 || host > 254 || host === 15) throw bad(`is not on the guest network ${GUEST_NETWORK.net}`);
  if (host >= GUEST_NETWORK.firstMpHost && host < GUEST_NETWORK.firstMpHost + GUEST_NETWORK.maxMps)
    throw bad("takes a management point's address (10.0.2.100-199)");
  return { ip: url.hostname, port: Number(url.port || 80) };
}

export async function startCaseDistributionPoints(
  dps: readonly CaseDistributionPoint[],
  opts: { wrap?: DpWrap } = {},
): Promise<StartedDps> {
  const servers: LibraryServer[] = [];
  const wrappers: Array<{ close(): Promise<void> }> = [];
  const requests: string[] = [];
  const close = async () => {
    await Promise.all([...wrappers, ...servers].map((s) => s.close().catch(() => undefined)));
  };
  try {
    const routes: ExtraGuestRoute[] = [];
    for (const dp of dps) {
      const guest = dpGuestAddress(dp);
      let url = dp.url;
      if (url === undefined) {
        if (!dp.root) throw new BootmediaError("BM5403", `distribution point ${dp.name}: no library to serve`);
        const server = await serveLibrary({
          root: dp.root,
          host: "127.0.0.1",
          port: 0,
          log: (line) => requests.push(`${dp.name} ${line}`),
        });
        servers.push(server);
        url = `http://127.0.0.1:${server.port}`;
      }
      if (opts.wrap) {
        const wrapped = await opts.wrap(dp.name, url);
        wrappers.push(wrapped);
        url = wrapped.url;
      }
      routes.push({ name: dp.name, guestIp: guest.ip, guestPort: guest.port, url: new URL(url).origin });
    }
    return { routes, requests, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The site's DPs as a deploy case serves them: each one the site's library, at the URL the site names. */
export function siteDistributionPoints(
  site: { distributionPoints: ReadonlyArray<{ name: string; url: string }>; library?: string },
  siteDir: string,
  where: string,
): CaseDistributionPoint[] {
  if (!site.library || site.distributionPoints.length === 0)
    throw new BootmediaError("BM5403", `${where}: a deploy case needs the site's library and a distribution point`, {
      where,
    });
  const root = resolve(siteDir, site.library);
  return site.distributionPoints.map((dp) => ({ name: dp.name, guestUrl: dp.url, root }));
}
