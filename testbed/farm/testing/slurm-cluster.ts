/**
 * A real one-node Slurm cluster for tests (Debian's slurmctld and slurmd, 22.05): its own
 * slurm.conf, state and spool in a temporary folder, ports chosen free, listening on
 * 127.0.0.1 only. Authentication is auth/none (Debian's build ships auth_none.so and
 * cred_none.so): the cluster is loopback-only and lives for one test, so munge and a key buy
 * nothing. Both daemons run in the foreground as our children and are stopped by pid.
 */
import { execa, type ResultPromise } from "execa";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";

export interface SlurmCluster {
  dir: string;
  /** What Slurm's client commands need (SLURM_CONF), on top of process.env. */
  env: Record<string, string>;
  pids: number[];
  /** Cancels what is left, stops both daemons and waits for them; idempotent. */
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the kernel picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function slurmConf(dir: string, ctldPort: number, slurmdPort: number, cpus: number, memoryMiB: number): string {
  return `# One node on loopback for bootmedia's farm tests; see testbed/farm/testing/slurm-cluster.ts.
ClusterName=bmfarm
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${ctldPort}
SlurmdPort=${slurmdPort}
CommunicationParameters=NoInAddrAny
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
# Finished jobs stay visible to scontrol for the test's checks (there is no slurmdbd for sacct).
MinJobAge=3600
SchedulerParameters=sched_interval=1
MailProg=/bin/true
NodeName=localhost NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memoryMiB} State=UNKNOWN
PartitionName=farm Nodes=localhost Default=YES MaxTime=INFINITE State=UP
`;
}

export async function startSlurmCluster(opts: { cpus?: number } = {}): Promise<SlurmCluster> {
  const dir = await mkdtemp(join(tmpdir(), "bm-slurm-"));
  await mkdir(join(dir, "state"));
  await mkdir(join(dir, "spool"));
  const conf = join(dir, "slurm.conf");
  // Less memory than the machine has, or slurmd drains the node ("Low RealMemory").
  const memoryMiB = Math.floor((totalmem() / 2 ** 20) * 0.8);
  await writeFile(conf, slurmConf(dir, await freePort(), await freePort(), opts.cpus ?? 2, memoryMiB));
  const env = { SLURM_CONF: conf };
  const daemons: ResultPromise[] = [];
  const spawn = (cmd: string, args: string[]) => {
    const child = execa(cmd, ["-D", "-f", conf, ...args], {
      env,
      reject: false,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    daemons.push(child);
  };
  const cluster: SlurmCluster = {
    dir,
    env,
    pids: [],
    async stop() {
      const jobs = await execa("squeue", ["-h", "-o", "%A"], { env, reject: false, timeout: 10_000 });
      const ids = [
        ...new Set(
          String(jobs.stdout)
            .split("\n")
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ];
      if (ids.length > 0) await execa("scancel", ids, { env, reject: false, timeout: 10_000 });
      for (const child of daemons.splice(0)) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await child;
        clearTimeout(timer);
      }
    },
  };
  spawn("slurmctld", []);
  spawn("slurmd", ["-N", "localhost"]);
  cluster.pids = daemons.map((d) => d.pid!).filter(Boolean);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await execa("sinfo", ["-h", "-N", "-o", "%t"], { env, reject: false, timeout: 10_000 });
    if (String(r.stdout).trim() === "idle") return cluster;
    await new Promise((res) => setTimeout(res, 500));
  }
  const logs = await Promise.all(
    ["slurmctld.log", "slurmd.log"].map((f) => readFile(join(dir, f), "utf8").catch(() => "")),
  );
  await cluster.stop();
  await rm(dir, { recursive: true, force: true });
  throw new Error(
    `the one-node Slurm cluster did not come up within 60 s:\n${logs.map((l) => l.split("\n").slice(-15).join("\n")).join("\n---\n")}`,
  );
}

/** One job (or array task) as `scontrol show job -o` reports it. */
export interface SlurmJob {
  jobId: string;
  arrayJobId?: string;
  arrayTaskId?: string;
  state: string;
  exitCode: string;
  submit: Date;
  start: Date | null;
  end: Date | null;
  dependency: string;
}

const TERMINAL = /^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)/;

function field(line: string, key: string): string | undefined {
  return new RegExp(`(?:^| )${key}=(\\S*)`).exec(line)?.[1];
}

// scontrol prints local time without a zone; JavaScript reads that form as local time too.
const time = (s: string | undefined) => (s && s !== "Unknown" && s !== "None" ? new Date(s) : null);

/** Every job (array tasks one by one) of `jobIds`, as scontrol reports them. */
async function showJobs(jobIds: readonly string[], env: Record<string, string>): Promise<SlurmJob[]> {
  const out: SlurmJob[] = [];
  for (const id of jobIds) {
    const r = await execa("scontrol", ["show", "job", "-o", id], { env });
    for (const line of String(r.stdout)
      .split("\n")
      .filter((l) => l.startsWith("JobId="))) {
      out.push({
        jobId: field(line, "JobId")!,
        arrayJobId: field(line, "ArrayJobId"),
        arrayTaskId: field(line, "ArrayTaskId"),
        state: field(line, "JobState") ?? "",
        exitCode: field(line, "ExitCode") ?? "",
        submit: time(field(line, "SubmitTime"))!,
        start: time(field(line, "StartTime")),
        end: time(field(line, "EndTime")),
        dependency: field(line, "Dependency") ?? "",
      });
    }
  }
  return out;
}

/**
 * Waits until every job of `jobIds` (all array tasks included) has ended, asking squeue every
 * `everyMs` — polling, as a farm's driver would, never `sbatch --wait`.
 */
export async function waitForJobs(
  jobIds: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
  everyMs = 1000,
): Promise<SlurmJob[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await execa("squeue", ["-h", "-t", "all", "-j", jobIds.join(","), "-o", "%i %T"], { env });
    const states = String(r.stdout)
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => l.split(" ")[1] ?? "");
    if (states.length > 0 && states.every((s) => TERMINAL.test(s))) return showJobs(jobIds, env);
    await new Promise((res) => setTimeout(res, everyMs));
  }
  throw new Error(`Slurm jobs ${jobIds.join(", ")} did not end within ${timeoutMs / 1000} s`);
}
