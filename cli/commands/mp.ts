/**
 * `bootmedia mp serve --site site.yaml`: the management point (the testbed's MPs are the same
 * startManagementPoint); `bootmedia mp status --state-dir DIR`: one line per computer from the
 * MP's journal. docs/management-point.md.
 */
import { watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { startManagementPoint, type MpRequestLogEntry, type RunningMp } from "../../backends/mp/server.ts";
import { loadSiteFile } from "../../backends/mp/site-content.ts";
import { MpState, type ComputerStatus } from "../../backends/mp/state.ts";
import { printJson } from "./render.ts";
import type { Run } from "./types.ts";
import "../../core/codes.ts";
import "../../backends/mp/codes.ts";

interface MpFlags {
  site?: string;
  listen?: string;
  name?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  stateDir?: string;
  json?: boolean;
  watch?: boolean;
}

const USAGE =
  "usage: bootmedia mp serve --site FILE [--listen HOST:PORT] [--name MP] [--tls-cert F --tls-key F --client-ca F] [--state-dir DIR] [--json] [--watch] | bootmedia mp status --state-dir DIR [--json]";
const usage = (message: string) => new BootmediaError("BM1009", `${message}\n${USAGE}`);

export function registerMpCommands(cli: CAC, run: Run): void {
  cli
    .command(
      "mp <action>",
      "Management point: `mp serve --site FILE` answers media (policy, task sequences, status, logs); `mp status --state-dir DIR` shows each computer's deployment",
    )
    .option("--site <file>", "The site file (YAML or JSON): computers, deployments, task sequences, certificates")
    .option("--listen <host:port>", "Address and port to listen on", { default: "127.0.0.1:8080" })
    .option("--name <mp>", "This MP's name in the site file (default: its first management point)")
    .option("--tls-cert <file>", "HTTPS with mutual TLS: the MP's certificate (PEM) …")
    .option("--tls-key <file>", "… its private key (PEM) …")
    .option("--client-ca <file>", "… and the CA that issues the media's client certificates (PEM)")
    .option("--state-dir <dir>", "Keep the journal (policies, status events) and logs here; without it, memory only")
    .option("--watch", "Reload the site file when it changes (SIGHUP always reloads)")
    .action((action: string, flags: MpFlags) =>
      run(async () => {
        if (action === "serve") return serve(flags);
        if (action === "status") return status(flags);
        throw usage(`unknown action ${action}`);
      }),
    );
}
export { registerMpCommands as register };

/** "HOST:PORT", "[v6]:PORT" or ":PORT" (all addresses). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw usage(`--listen ${text}: give HOST:PORT, e.g. 0.0.0.0:8080 or [::]:8080`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

async function serve(flags: MpFlags): Promise<number> {
  for (const [flag, value] of Object.entries(flags))
    if (flag !== "--" && Array.isArray(value))
      throw usage(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} given twice`);
  if (!flags.site) throw usage("mp serve needs --site FILE");
  const { host, port } = parseListen(String(flags.listen ?? "127.0.0.1:8080"));
  const tlsFlags = [flags.tlsCert, flags.tlsKey, flags.clientCa];
  if (tlsFlags.some(Boolean) && !tlsFlags.every(Boolean))
    throw usage("--tls-cert, --tls-key and --client-ca go together");
  const read = (f: string) =>
    readFile(resolve(f), "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new BootmediaError("BM5304", `cannot read ${f}: ${e.code ?? e.message}`, { where: f });
    });
  const tls = flags.tlsCert
    ? { cert: await read(flags.tlsCert), key: await read(flags.tlsKey!), ca: await read(flags.clientCa!) }
    : undefined;
  const siteFile = resolve(flags.site);
  const name = flags.name ?? (await loadSiteFile(siteFile)).site.managementPoints[0]!;
  const log = (event: Record<string, unknown>, text: string) =>
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`
        : `${new Date().toISOString()} ${text}\n`,
    );
  const mp = await startManagementPoint({
    siteFile,
    name,
    host,
    port,
    tls,
    stateDir: flags.stateDir ? resolve(flags.stateDir) : undefined,
    keepRequests: false,
    onRequest: (e) => log({ event: "request", ...e }, describeRequest(e)),
  });
  const state = flags.stateDir ? `state in ${resolve(flags.stateDir)}` : "state in memory only (no --state-dir)";
  log(
    { event: "listening", mp: name, url: mp.url, site: siteFile, stateDir: flags.stateDir ?? null },
    `mp ${name} serving ${siteFile} at ${mp.url}, ${state} (Ctrl-C stops, SIGHUP reloads the site)`,
  );
  const reload = (why: string) => reloadSite(mp, siteFile, why, log);
  process.on("SIGHUP", () => void reload("SIGHUP"));
  if (flags.watch) watchFile(siteFile, () => void reload("file changed"));
  // Ctrl-C or SIGTERM is how a server is stopped, not an interrupted build: close, release the
  // state dir, exit 0. Everything accepted is already on disk. A second signal ends it at once.
  return new Promise<number>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      process.removeAllListeners(sig);
      process.once(sig, () => {
        log({ event: "stopped", signal: sig }, `mp ${name} stopped (${sig})`);
        void mp.close().then(() => resolve(0));
      });
    }
  });
}

type Log = (event: Record<string, unknown>, text: string) => void;

/** A bad new site is a coded line in the log; the old one keeps serving. */
async function reloadSite(mp: RunningMp, file: string, why: string, log: Log): Promise<void> {
  try {
    const loaded = await mp.reload();
    log(
      { event: "reload", ok: true, why, site: file, taskSequencesWithSteps: loaded.content.size },
      `reloaded ${file} (${why}): ${loaded.content.size} task sequence(s) with steps`,
    );
  } catch (e) {
    const err = e instanceof BootmediaError ? e : new BootmediaError("BM5302", (e as Error).message);
    log(
      { event: "reload", ok: false, why, site: file, error: { code: err.code, message: err.message, hint: err.hint } },
      `error ${err.code} reloading ${file} (${why}): ${err.message}\n  hint: ${err.hint}\n  the previous site keeps serving`,
    );
  }
}

/** Editors replace a file (write a copy, rename): watch its folder, settle a burst of events into one reload. */
function watchFile(file: string, onChange: () => void): void {
  let timer: NodeJS.Timeout | undefined;
  watch(dirname(file), (_event, name) => {
    if (name !== basename(file)) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, 300);
  }).unref();
}

function describeRequest(e: MpRequestLogEntry): string {
  const who = [
    e.client.mac,
    e.deploymentId,
    e.run === undefined ? undefined : `run ${e.run}`,
    e.seq === undefined ? undefined : `seq ${e.seq}`,
  ].filter(Boolean);
  return [
    e.client.address,
    e.method,
    e.path,
    e.status,
    e.result + (e.why ? ` (${e.why})` : "") + (e.to ? ` → ${e.to}` : ""),
    ...who,
    `${e.ms ?? 0} ms`,
  ].join(" ");
}

async function status(flags: MpFlags): Promise<number> {
  if (!flags.stateDir) throw usage("mp status needs --state-dir DIR (the folder `mp serve --state-dir` writes)");
  const dir = resolve(flags.stateDir);
  const state = await MpState.read(dir);
  const rows = state.computers();
  if (flags.json) {
    printJson({
      ok: true,
      stateDir: dir,
      computers: rows.map((r) => ({
        ...r,
        lastContact: iso(r.lastContact),
        deployed: r.deployed && { ...r.deployed, time: iso(r.deployed.time) },
      })),
    });
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write(`no computer has asked the MP of ${dir} for a deployment yet\n`);
    return 0;
  }
  printTable([
    ["COMPUTER", "MAC", "DEPLOYMENT", "STEP", "STATE", "FAILURES", "LAST CONTACT"],
    ...rows.map((r: ComputerStatus) => [
      r.computer,
      r.mac,
      r.deploymentId,
      `${r.step}/${r.stepCount}`,
      r.state,
      String(r.failures),
      iso(r.lastContact),
    ]),
  ]);
  return 0;
}

const iso = (sec: number) => new Date(sec * 1000).toISOString().replace(/\.000Z$/, "Z");

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    process.stdout.write(
      `${r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd()}\n`,
    );
}
