/**
 * `npm run bench:mp`: `bootmedia mp serve` as users run it (its own process, a state dir, the
 * journal fsynced before every answer, the JSON request log on stdout) against 200 simulated
 * agents over loopback, 50 at a time, each: policy (with a report key), 20 status events (every
 * second one signed with the report key, the others with the media key), one 64 KiB log.
 * Run 1 measures; run 2 kills the MP (SIGKILL) half-way and restarts it on the same state dir
 * while the agents retry, then checks every accepted event is in the journal exactly once and
 * `mp status --json` counts 20 events for every computer.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pLimit from "p-limit";
import { stringify } from "yaml";
import { askManagementPoint, describeReportKey, newRunId, postLog, postStatus, type Contact } from "../client.ts";
import { readJournal } from "../journal.ts";
import { makeMedia, makeMediaCert, makeSite, makeTempDir, type MediaCert } from "../testing/fixtures.ts";
import { freeLoopbackPort } from "../../../base/free-port.ts";

const AGENTS = 200;
const CONCURRENCY = 50;
const EVENTS = 20;
const LOG_BYTES = 64 * 1024;
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(ROOT, "bin/bootmedia.js");
const now = () => Math.floor(Date.now() / 1000);

interface RunResult {
  latencies: number[];
  failures: string[];
  seconds: number;
  /** (mac, seq) of every event the MP answered accepted or duplicate. */
  accepted: Set<string>;
  retries: number;
}

class MpProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<string>;
  /** Arrival to answer inside the MP (its request log's `ms`): the figure without the client's share of the CPU. */
  readonly serverMs: number[] = [];
  constructor(args: string[]) {
    // MP_NODE_ARGS: node flags for the MP process (e.g. --cpu-prof --cpu-prof-dir=DIR to profile it).
    const nodeArgs = process.env.MP_NODE_ARGS ? process.env.MP_NODE_ARGS.split(" ") : [];
    this.child = spawn("node", [...nodeArgs, BIN, "mp", "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    let err = "";
    this.child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    this.ready = new Promise((resolve, reject) => {
      this.child.stdout!.on("data", (d: Buffer) => {
        text += d.toString();
        const lines = text.split("\n");
        text = lines.pop()!;
        for (const line of lines) {
          const ms = /"event":"request".*"ms":([\d.]+)/.exec(line);
          if (ms) this.serverMs.push(Number(ms[1]));
          const m = /"event":"listening".*"url":"([^"]+)"/.exec(line);
          if (m) resolve(m[1]!);
        }
      });
      this.child.on("exit", (code) => reject(new Error(`mp serve exited ${code}: ${err}`)));
    });
  }
  /** CPU seconds (user + system) the MP process used so far. */
  cpuSeconds(): number {
    const fields = readFileSync(`/proc/${this.child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // proc(5): utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }
  /** Peak resident set of the MP process so far (kB → MiB). */
  peakRssMiB(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
    return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024;
  }
  stop(signal: NodeJS.Signals): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once("exit", () => resolve());
      this.child.kill(signal);
    });
  }
}

const macOf = (i: number) =>
  `52:54:00:be:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;

/** All agents; `midway` is called once when half the requests are answered. */
async function runAgents(url: string, cert: MediaCert, midway?: () => Promise<void>): Promise<RunResult> {
  const total = AGENTS * (EVENTS + 2);
  const result: RunResult = { latencies: [], failures: [], seconds: 0, accepted: new Set(), retries: 0 };
  let answered = 0;
  let midwayDone: Promise<void> | undefined;
  const log = Buffer.alloc(LOG_BYTES, "engine log line\n");
  /** One request, retried (fresh nonce each time) while the MP cannot be reached. */
  const call = async (what: string, send: () => Promise<Contact>, ok: (c: Contact) => boolean) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const t0 = performance.now();
      const c = await send();
      if (c.status === null || c.status >= 500) {
        result.retries++;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      result.latencies.push(performance.now() - t0);
      if (!ok(c)) result.failures.push(`${what}: ${c.status} ${JSON.stringify(c.answer)}`);
      if (++answered === Math.floor(total / 2) && midway) midwayDone = midway();
      return c;
    }
    result.failures.push(`${what}: no answer after 100 attempts`);
    return undefined;
  };
  const start = performance.now();
  const limit = pLimit(CONCURRENCY);
  await Promise.all(
    Array.from({ length: AGENTS }, (_, i) =>
      limit(async () => {
        const mac = macOf(i);
        // The installed OS's credentials: the report key drawn for this boot.
        const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
        const reportKey = describeReportKey(privateKey).spki;
        const policy = await call(
          `${mac} policy`,
          () => askManagementPoint(url, makeMedia(url), { mac, reportKey }, cert.creds, now()),
          (c) => c.answer?.result === "policy",
        );
        if (policy?.answer?.result !== "policy") return;
        const deploymentId = policy.answer.deploymentId;
        const run = newRunId();
        for (let seq = 1; seq <= EVENTS; seq++) {
          const event = {
            mac,
            deploymentId,
            run,
            seq,
            step: seq === EVENTS ? 0 : Math.ceil(seq / 6),
            of: 3,
            name: `step ${seq}`,
            state: seq === EVENTS ? ("success" as const) : ("progress" as const),
            exitCode: 0,
          };
          const c = await call(
            `${mac} status ${seq}`,
            () => postStatus(url, event, seq % 2 === 0 ? { reportKey: privateKey } : cert.creds, now()),
            (a) => a.answer?.result === "accepted" || a.answer?.result === "duplicate",
          );
          if (c?.answer?.result === "accepted" || c?.answer?.result === "duplicate")
            result.accepted.add(`${mac} ${seq}`);
        }
        await call(
          `${mac} log`,
          () => postLog(url, { mac, deploymentId, run, log }, cert.creds, now()),
          (c) => c.answer?.result === "accepted",
        );
      }),
    ),
  );
  await midwayDone;
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function report(name: string, r: RunResult, rssMiB: number, cpu?: number, serverMs?: number[]): void {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const inMp = [...(serverMs ?? [])].sort((a, b) => a - b);
  console.log(
    `${name}: ${r.latencies.length} requests, ${r.failures.length} failures, ${r.retries} retries, ` +
      `p50 ${pct(sorted, 50).toFixed(1)} ms, p99 ${pct(sorted, 99).toFixed(1)} ms, ` +
      `${(r.latencies.length / r.seconds).toFixed(0)} requests/s, ${r.seconds.toFixed(1)} s, MP peak RSS ${rssMiB.toFixed(0)} MiB` +
      (cpu === undefined ? "" : `, MP CPU ${((cpu * 1000) / r.latencies.length).toFixed(2)} ms a request`) +
      (inMp.length === 0
        ? ""
        : `; inside the MP (arrival → answer, fsync included): p50 ${pct(inMp, 50).toFixed(1)} ms, p99 ${pct(inMp, 99).toFixed(1)} ms`),
  );
  for (const f of r.failures.slice(0, 5)) console.log(`  failure: ${f}`);
}

/** Every accepted event in the journal exactly once, and `mp status --json` counting them. */
async function checkState(stateDir: string, accepted: Set<string>): Promise<string[]> {
  const problems: string[] = [];
  const { records } = await readJournal(join(stateDir, "journal.jsonl"));
  const seen = new Map<string, number>();
  for (const r of records as Array<{ t: string; event?: { mac: string; seq: number } }>)
    if (r.t === "status")
      seen.set(`${r.event!.mac} ${r.event!.seq}`, (seen.get(`${r.event!.mac} ${r.event!.seq}`) ?? 0) + 1);
  for (const key of accepted)
    if (seen.get(key) !== 1) problems.push(`${key}: ${seen.get(key) ?? 0} times in the journal`);
  for (const [key, n] of seen) if (n !== 1) problems.push(`${key}: ${n} times in the journal`);
  const status = spawn("node", [BIN, "mp", "status", "--state-dir", stateDir, "--json"]);
  let out = "";
  status.stdout.on("data", (d: Buffer) => (out += d.toString()));
  await new Promise((r) => status.on("exit", r));
  const computers = (JSON.parse(out) as { computers: Array<{ mac: string; events: number; state: string }> }).computers;
  if (computers.length !== AGENTS) problems.push(`mp status lists ${computers.length} computers, not ${AGENTS}`);
  for (const c of computers)
    if (c.events !== EVENTS || c.state !== "succeeded")
      problems.push(`mp status: ${c.mac} has ${c.events} events, ${c.state}`);
  return problems;
}

async function main(): Promise<void> {
  const dir = makeTempDir("bm-bench-mp-");
  try {
    const cert = makeMediaCert(dir);
    const siteFile = join(dir, "site.yaml");
    writeFileSync(siteFile, stringify(makeSite(cert.der)));
    const port = await freeLoopbackPort();
    const args = (state: string) => [
      "--site",
      siteFile,
      "--listen",
      `127.0.0.1:${port}`,
      "--json",
      "--state-dir",
      state,
    ];
    console.log(`machine: ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)} at start`);
    console.log(
      `bench:mp — ${AGENTS} agents × (policy + ${EVENTS} status, half signed with a report key, + one ${LOG_BYTES / 1024} KiB log), concurrency ${CONCURRENCY}, ` +
        "bootmedia mp serve in its own process, journal fdatasync before each answer",
    );

    const steady = new MpProcess(args(join(dir, "state-1")));
    const url = await steady.ready;
    const run1 = await runAgents(url, cert);
    report("run 1 (steady)", run1, steady.peakRssMiB(), steady.cpuSeconds(), steady.serverMs);
    await steady.stop("SIGTERM");
    const problems1 = await checkState(join(dir, "state-1"), run1.accepted);

    const state2 = join(dir, "state-2");
    let mp = new MpProcess(args(state2));
    await mp.ready;
    let killedRss = 0;
    const run2 = await runAgents(url, cert, async () => {
      killedRss = mp.peakRssMiB();
      await mp.stop("SIGKILL");
      mp = new MpProcess(args(state2));
      await mp.ready;
    });
    report("run 2 (SIGKILL + restart half-way)", run2, Math.max(killedRss, mp.peakRssMiB()));
    await mp.stop("SIGTERM");
    const problems2 = await checkState(state2, run2.accepted);
    for (const [name, list] of [
      ["run 1", problems1],
      ["run 2", problems2],
    ] as const)
      console.log(
        `${name} state check: ${list.length === 0 ? `every accepted event in the journal exactly once; mp status: ${AGENTS} computers × ${EVENTS} events, succeeded` : list.slice(0, 5).join("; ")}`,
      );
    if (run1.failures.length + run2.failures.length + problems1.length + problems2.length > 0) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
