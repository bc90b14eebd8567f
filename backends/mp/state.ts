/**
 * What a management point remembers: the policies it gave, the status events and logs it
 * accepted, and the nonces of those requests. With a state dir every change is a journal
 * record on disk before the MP answers, and the whole state is rebuilt from the journal at
 * start; without one (the testbed's MPs) it lives in memory only.
 */
import { createHash, randomBytes, type KeyObject } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { parseReportKey, type ReportKeyEntry } from "./auth.ts";
import { MAX_CLOCK_SKEW_SEC, type StatusRequest } from "./protocol.ts";
import { JOURNAL_FILE, Journal, readJournal } from "./journal.ts";
import "./codes.ts";

type JournalRecord =
  | {
      t: "policy";
      time: number;
      mac: string;
      computer: string;
      deploymentId: string;
      taskSequence: string;
      stepCount: number;
      nonce: string;
      /** The report key the client sent with the policy request (base64 DER SPKI), when it sent one. */
      reportKey?: string;
    }
  | { t: "status"; time: number; event: StatusRequest }
  | { t: "log"; time: number; mac: string; deploymentId: string; run: string; bytes: number; nonce: string };

/**
 * The run of the records a journal holds from before runs existed (they have no `run`): they
 * read as one run of this name, which no client can send (a client's run is hex digits).
 */
export const LEGACY_RUN = "legacy";

/** `deployed`: the installed OS reported itself (a `deployed` event of the run), whatever came before. */
export const RUN_STATES = ["running", "succeeded", "failed", "deployed"] as const;

/** One line of `mp status`: the computer's latest deployment run. */
export interface ComputerStatus {
  computer: string;
  mac: string;
  deploymentId: string;
  /** The run shown: the latest to begin since the computer's latest policy; null before its first event. */
  run: string | null;
  taskSequence: string;
  /** The step of the latest event (0 before the first), of stepCount. */
  step: number;
  stepCount: number;
  state: (typeof RUN_STATES)[number];
  /** Step events with state failure. */
  failures: number;
  /** The run's `deployed` event (the installed OS booted and reported): when the MP took it, and its message. */
  deployed: { time: number; message: string | null } | null;
  /** Status events stored for this run. */
  events: number;
  /** Seconds (the MP's clock) of the latest policy, event or log of this computer. */
  lastContact: number;
}

const deploymentKey = (mac: string, deploymentId: string) => `${mac}\t${deploymentId}`;
const runKey = (mac: string, deploymentId: string, run: string) => `${deploymentKey(mac, deploymentId)}\t${run}`;
const eventKey = (e: StatusRequest) => `${runKey(e.mac, e.deploymentId, e.run)}\t${e.seq}`;
/** Nonces older than this cannot come back: their timestamps are refused as stale. */
const NONCE_KEEP_SEC = 2 * MAX_CLOCK_SKEW_SEC;

/**
 * The file name of a run's log, `<deploymentId>.<run>.log`: safe characters kept, anything else
 * (a dot too) as _xx, so no client text is a path and no two (deployment, run) share a name. The
 * legacy run's log kept the name logs had before runs existed, `<deploymentId>.log`.
 */
export function logFileName(deploymentId: string, run: string): string {
  const escape = (text: string) =>
    text.replace(/[^A-Za-z0-9_-]/g, (c) =>
      [...Buffer.from(c, "utf8")].map((b) => `_${b.toString(16).padStart(2, "0")}`).join(""),
    );
  let safe = escape(deploymentId);
  // Past NAME_MAX (255 bytes) with its escapes: a digest of the id is unique and fits.
  if (safe.length > 200) safe = createHash("sha256").update(deploymentId).digest("hex");
  return run === LEGACY_RUN ? `${safe}.log` : `${safe}.${escape(run)}.log`;
}

type PolicyRecord = Extract<JournalRecord, { t: "policy" }>;

export class MpState {
  /** Each MAC's latest policy, with its place in the journal. */
  private readonly latestPolicy = new Map<string, { policy: PolicyRecord; at: number }>();
  private readonly given = new Set<string>();
  /** Accepted events by (mac, deploymentId, run, seq), with the promise of their journal record. */
  private readonly accepted = new Map<string, { event: StatusRequest; time: number; stored: Promise<void> }>();
  private readonly runEvents = new Map<string, StatusRequest[]>();
  /** Per (mac, deploymentId): the run whose first event came last, and that event's place in the journal. */
  private readonly latestRun = new Map<string, { run: string; at: number }>();
  /** Records applied so far: the journal's order, which says what came after what. */
  private applied = 0;
  private readonly lastContact = new Map<string, number>();
  private readonly nonces = new Map<string, number>();
  private nextPrune = 0;
  /** Logs of a memory-only MP. */
  private readonly memoryLogs = new Map<string, Buffer>();
  /**
   * Report keys by the hex SHA-256 of their DER, with the (mac, deploymentId) of each policy
   * they came with. Parsed once (at the policy, or at first use after a restart), then reused.
   */
  private readonly reportKeys = new Map<string, { spki: string; key?: KeyObject; given: Set<string> }>();

  private constructor(
    readonly dir: string | undefined,
    private readonly journal: Journal | undefined,
  ) {}

  /** Memory only: nothing survives the process. */
  static inMemory(): MpState {
    return new MpState(undefined, undefined);
  }

  /** Opens (creating) a state dir for the one MP that writes it: lock, journal replayed, stale temporaries removed. */
  static async open(dir: string): Promise<MpState> {
    const journalPath = join(dir, JOURNAL_FILE);
    try {
      await mkdir(join(dir, "logs"), { recursive: true });
      await takeLock(dir);
    } catch (e) {
      if (e instanceof BootmediaError) throw e;
      throw notWritable(dir, e);
    }
    const { records, goodBytes } = await readJournal(journalPath);
    const journal = await Journal.open(journalPath, goodBytes).catch((e: unknown) => {
      throw notWritable(dir, e);
    });
    const state = new MpState(dir, journal);
    for (const r of records) state.apply(fromJournal(r));
    await removeTemporaries(join(dir, "logs"));
    return state;
  }

  /** Reads a state dir without writing it (`mp status` beside a running MP): a torn last line is skipped. */
  static async read(dir: string): Promise<MpState> {
    const { records } = await readJournal(join(dir, JOURNAL_FILE));
    const state = new MpState(dir, undefined);
    for (const r of records) state.apply(fromJournal(r));
    return state;
  }

  /** Whether this MP gave `deploymentId` to `mac` (status and logs of other deployments are refused). */
  hasGiven(mac: string, deploymentId: string): boolean {
    return this.given.has(deploymentKey(mac, deploymentId));
  }

  /** The report key of this hash (hex SHA-256 of its DER SPKI), if it came with a policy this MP gave. */
  reportKey(sha256: string): ReportKeyEntry | undefined {
    const entry = this.reportKeys.get(sha256);
    if (!entry) return undefined;
    // A journal record was checked when its request came in; parse it once now.
    entry.key ??= parseReportKey(entry.spki) ?? undefined;
    if (!entry.key) return undefined;
    const { key, given } = entry;
    return { key, givenFor: (mac, deploymentId) => given.has(deploymentKey(mac, deploymentId)) };
  }

  /** Claims a nonce at the MP's clock; false when it was seen within the replay window. */
  claimNonce(nonce: string, clock: number): boolean {
    if (clock >= this.nextPrune) {
      for (const [n, t] of this.nonces) if (clock - t > NONCE_KEEP_SEC) this.nonces.delete(n);
      this.nextPrune = clock + 10;
    }
    if (this.nonces.has(nonce)) return false;
    this.nonces.set(nonce, clock);
    return true;
  }

  /** The stored event with this key and nonce: a client resending the very same signed body. */
  isResent(event: StatusRequest): boolean {
    return this.accepted.get(eventKey(event))?.event.nonce === event.nonce;
  }

  /** Stores a policy given; `key` is its `reportKey` already parsed (kept, so no request parses it again). */
  recordPolicy(record: Omit<PolicyRecord, "t">, key?: KeyObject): Promise<void> {
    const stored = this.commit({ t: "policy", ...record });
    if (key && record.reportKey) this.reportKeys.get(reportKeySha256(record.reportKey))!.key ??= key;
    return stored;
  }

  /** Stores an event once; a repeat of a stored (run, seq) is a duplicate (answered once the first is on disk). */
  async addStatus(event: StatusRequest, time: number): Promise<"accepted" | "duplicate"> {
    const first = this.accepted.get(eventKey(event));
    if (first) {
      await first.stored;
      return "duplicate";
    }
    await this.commit({ t: "status", time, event });
    return "accepted";
  }

  /** Stores a run's log (temp file, fsync, rename: a crash leaves the old log or the new, never half). */
  async addLog(upload: {
    mac: string;
    deploymentId: string;
    run: string;
    log: Buffer;
    nonce: string;
    time: number;
  }): Promise<void> {
    const { mac, deploymentId, run, log, nonce, time } = upload;
    if (!this.dir) this.memoryLogs.set(runKey(mac, deploymentId, run), log);
    else {
      const folder = join(this.dir, "logs", mac.replace(/:/g, ""));
      await mkdir(folder, { recursive: true });
      const file = join(folder, logFileName(deploymentId, run));
      const temp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
      try {
        await writeFile(temp, log, { flush: true });
        await rename(temp, file);
      } catch (e) {
        await rm(temp, { force: true });
        throw e;
      }
      await syncDir(folder);
    }
    await this.commit({ t: "log", time, mac, deploymentId, run, bytes: log.length, nonce });
  }

  /** A run's stored log (tests, the testbed's report), or undefined. */
  async readLog(mac: string, deploymentId: string, run: string): Promise<Buffer | undefined> {
    if (!this.dir) return this.memoryLogs.get(runKey(mac, deploymentId, run));
    const file = join(this.dir, "logs", mac.replace(/:/g, ""), logFileName(deploymentId, run));
    return readFile(file).catch(() => undefined);
  }

  /** Every accepted event, in the order accepted. */
  events(): StatusRequest[] {
    return [...this.accepted.values()].map((a) => a.event);
  }

  /** Every accepted event with when the MP accepted it (its clock, seconds), in the order accepted. */
  eventRecords(): Array<{ event: StatusRequest; time: number }> {
    return [...this.accepted.values()].map(({ event, time }) => ({ event, time }));
  }

  /**
   * One entry per computer (MAC), in MAC order: its latest policy's deployment, and of that
   * deployment the run whose first event the MP accepted last — if that came after the policy;
   * a computer given the deployment again shows no run until the new run's first event.
   */
  computers(): ComputerStatus[] {
    return [...this.latestPolicy.values()]
      .sort((a, b) => a.policy.mac.localeCompare(b.policy.mac))
      .map(({ policy: p, at }) => {
        const latest = this.latestRun.get(deploymentKey(p.mac, p.deploymentId));
        const run = latest && latest.at > at ? latest.run : null;
        const stored = run === null ? [] : (this.runEvents.get(runKey(p.mac, p.deploymentId, run)) ?? []);
        const events = [...stored].sort((a, b) => a.seq - b.seq);
        const steps = events.filter((e) => e.step > 0);
        const final = events.filter((e) => e.step === 0 && (e.state === "success" || e.state === "failure")).at(-1);
        const deployed = events.find((e) => e.state === "deployed");
        return {
          computer: p.computer,
          mac: p.mac,
          deploymentId: p.deploymentId,
          run,
          taskSequence: p.taskSequence,
          step: steps.at(-1)?.step ?? 0,
          stepCount: p.stepCount,
          state: deployed
            ? "deployed"
            : final?.state === "success"
              ? "succeeded"
              : final?.state === "failure"
                ? "failed"
                : "running",
          failures: steps.filter((e) => e.state === "failure").length,
          deployed: deployed ? { time: this.eventTime(deployed), message: deployed.message ?? null } : null,
          events: events.length,
          lastContact: this.lastContact.get(p.mac) ?? p.time,
        };
      });
  }

  private eventTime(event: StatusRequest): number {
    return this.accepted.get(eventKey(event))?.time ?? event.timestamp;
  }

  async close(): Promise<void> {
    await this.journal?.close();
    if (this.dir) await unlink(join(this.dir, LOCK_FILE)).catch(() => {});
  }

  /** Applies a record in memory first (so a concurrent repeat sees it), then writes it. */
  private commit(record: JournalRecord): Promise<void> {
    const stored = this.journal ? this.journal.append(record) : Promise.resolve();
    this.apply(record, stored);
    return stored;
  }

  private apply(r: JournalRecord, stored: Promise<void> = Promise.resolve()): void {
    const at = ++this.applied;
    const mac = r.t === "status" ? r.event.mac : r.mac;
    this.lastContact.set(mac, Math.max(this.lastContact.get(mac) ?? 0, r.time));
    if (r.t === "policy") {
      this.latestPolicy.set(r.mac, { policy: r, at });
      this.given.add(deploymentKey(r.mac, r.deploymentId));
      this.nonces.set(r.nonce, r.time);
      if (r.reportKey) {
        const sha256 = reportKeySha256(r.reportKey);
        const entry = this.reportKeys.get(sha256) ?? { spki: r.reportKey, given: new Set<string>() };
        entry.given.add(deploymentKey(r.mac, r.deploymentId));
        this.reportKeys.set(sha256, entry);
      }
    } else if (r.t === "status") {
      const { event } = r;
      const key = runKey(event.mac, event.deploymentId, event.run);
      this.accepted.set(eventKey(event), { event, time: r.time, stored });
      const events = this.runEvents.get(key);
      if (events) events.push(event);
      else {
        this.runEvents.set(key, [event]);
        this.latestRun.set(deploymentKey(event.mac, event.deploymentId), { run: event.run, at });
      }
      this.nonces.set(event.nonce, r.time);
    } else this.nonces.set(r.nonce, r.time);
  }
}

/** How a report key is named in the report-key header: hex SHA-256 of its DER SPKI. */
const reportKeySha256 = (base64: string) => createHash("sha256").update(Buffer.from(base64, "base64")).digest("hex");

/** A journal record as this version keeps it: one from before runs existed gets the legacy run. */
function fromJournal(record: unknown): JournalRecord {
  const r = record as JournalRecord;
  if (r.t === "status" && r.event.run === undefined) return { ...r, event: { ...r.event, run: LEGACY_RUN } };
  if (r.t === "log" && r.run === undefined) return { ...r, run: LEGACY_RUN };
  return r;
}

const LOCK_FILE = "lock";

/** One writer per state dir: the lock holds the pid; a dead holder's lock (kill -9) is taken over. */
async function takeLock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, "wx");
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid))
      throw new BootmediaError("BM5311", `state dir ${dir} is in use by process ${pid} (${path})`, { where: dir });
    await unlink(path).catch(() => {});
  }
  throw new BootmediaError("BM5311", `state dir ${dir}: cannot take ${path}`, { where: dir });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function notWritable(dir: string, e: unknown): BootmediaError {
  return new BootmediaError(
    "BM5309",
    `state dir ${dir} is not writable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    { where: dir, cause: e },
  );
}

/** Temporaries of log uploads the MP was killed in the middle of writing. */
async function removeTemporaries(logs: string): Promise<void> {
  for (const mac of await readdir(logs)) {
    const folder = join(logs, mac);
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const n of names) if (n.endsWith(".tmp")) await rm(join(folder, n), { force: true });
  }
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
