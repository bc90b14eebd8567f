/**
 * The deploy bench's machine (npm run bench:deploy): reference media (x64, ISO) boot a QEMU
 * machine against a real management point and the real distribution point server, run the
 * task sequence the bench gives, and end at the engine's restart (or the sequence's end).
 * Every marker is timed on the host as it arrives; the MP's status events (each step's
 * message: the run-command output's tail, apply-image's summary) are read from its journal.
 * A second, read-only virtio disk may carry source bytes for in-guest measurements.
 */
import { execa } from "execa";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { JOURNAL_FILE, readJournal } from "../../backends/mp/journal.ts";
import { startManagementPoint } from "../../backends/mp/server.ts";
import { serveLibrary } from "../../plugins/distribution-point/server.ts";
import { bootmedia } from "../../testing/cli.ts";
import { SerialScanner, type SerialEvent } from "../markers.ts";
import { planMpNetwork, withMpNetwork } from "../mp/network.ts";
import { buildQemuArgs, PROFILES, type DiskBus } from "../profiles.ts";
import { deployMediaSpec } from "../testing/deploy-media.ts";

const GUEST_MAC = "52:54:00:12:34:56";
const PASSWORD = "Correct-Horse-Battery-9";
/** Where the guest finds the MP and the DP (planMpNetwork's first two addresses). */
export const GUEST_DP = "http://10.0.2.101";

export interface BenchMedia {
  iso: string;
  /** The media certificate (DER, base64) the MP trusts. */
  der: string;
}

/** The media: reference x64 boot image, unattended, one MP at 10.0.2.100, a password answered on the serial line. */
export async function buildBenchMedia(dir: string): Promise<BenchMedia> {
  writeFileSync(join(dir, "media.yaml"), deployMediaSpec({ name: "bench" }));
  const built = await bootmedia(["build", join(dir, "media.yaml")], { env: { MEDIA_PW: PASSWORD }, cwd: dir });
  if (built.exitCode !== 0) throw new Error(`bootmedia build: ${built.stderr}`);
  const iso = join(dir, "bench.iso");
  return { iso, der: readFileSync(iso.replace(/\.iso$/, ".cer")).toString("base64") };
}

export interface TimedMarker {
  /** Milliseconds since QEMU started. */
  at: number;
  /** CPU seconds QEMU had used by then (all its threads): the cost, less sensitive to a busy host than `at`. */
  cpu: number;
  m: Record<string, unknown>;
}

export interface StatusEvent {
  step: number;
  state: string;
  message?: string;
}

export interface GuestRun {
  markers: TimedMarker[];
  statuses: StatusEvent[];
  exitCode: number | undefined;
  wallMs: number;
}

export interface GuestOptions {
  dir: string;
  media: BenchMedia;
  /** The content library the DP serves and the MP's site names. */
  library: string;
  steps: unknown[];
  profile: "x64-bios" | "x64-uefi";
  memoryMiB: number;
  /** The blank disk the steps write. */
  disk: { path: string; bus: DiskBus };
  /** A read-only virtio disk (the guest's /dev/vda when the target is not virtio). */
  source?: string;
  /** Extra QEMU arguments (e.g. `-smp 2`). */
  extraArgs?: string[];
  /** -accel value. */
  accel?: string;
  timeoutMs: number;
  label: string;
  onMarker?: (t: TimedMarker) => void;
}

/** QEMU's CPU seconds over the step `which` picks (its start marker to its success marker). */
export function stepCpu(run: GuestRun, which: (m: Record<string, unknown>) => boolean): number {
  const at = (state: string) =>
    run.markers.find((t) => t.m.event === "step" && which(t.m) && t.m.state === state)?.cpu ?? Number.NaN;
  return at("success") - at("start");
}

const TICKS = 100;
/** utime + stime of a process (/proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return Number.NaN;
  }
}

/** One boot of the bench media through the given steps; resolves when QEMU ends. */
export async function runGuest(o: GuestOptions): Promise<GuestRun> {
  const dp = await serveLibrary({ root: o.library });
  const stateDir = join(o.dir, `state-${o.label}`);
  const mp = await startManagementPoint({
    site: {
      siteCode: "BM1",
      managementPoints: ["MP1"],
      library: o.library,
      distributionPoints: [{ name: "DP1", url: GUEST_DP }],
      computers: [{ name: "PC-BENCH", mac: GUEST_MAC }],
      taskSequences: [{ id: "BM200010", name: "Bench", steps: o.steps }],
      deployments: [{ id: "DEP-BENCH", taskSequence: "BM200010", target: "all" }],
      certificates: [{ der: o.media.der }],
    },
    name: "MP1",
    stateDir,
  } as Parameters<typeof startManagementPoint>[0]);
  try {
    const network = planMpNetwork([
      { name: "MP1", url: mp.url },
      { name: "DP1", url: dp.url },
    ]);
    const flash = PROFILES[o.profile].flash;
    const vars = flash ? join(o.dir, `vars-${o.label}.fd`) : undefined;
    if (flash && vars) copyFileSync(flash.vars, vars);
    const args = withMpNetwork(
      buildQemuArgs({
        profile: o.profile,
        media: { kind: "iso", path: o.media.iso },
        disk: { ...o.disk, bootindex: 1 },
        ...(vars ? { varsPath: vars } : {}),
        nic: "e1000",
        qmpSocket: join(o.dir, `qmp-${o.label}.sock`),
        accel: "tcg",
        memoryMiB: o.memoryMiB,
      }),
      network,
    ).map((a) => (a.startsWith("e1000,netdev=") ? `${a},mac=${GUEST_MAC}` : a));
    if (o.accel) args[args.indexOf("-accel") + 1] = o.accel;
    if (o.source)
      args.push(
        "-drive",
        `if=none,id=src,format=raw,readonly=on,file=${o.source}`,
        "-device",
        "virtio-blk-pci,drive=src",
      );
    args.push(...(o.extraArgs ?? []));
    const t0 = performance.now();
    const qemu = execa(PROFILES[o.profile].binary, args, {
      reject: false,
      timeout: o.timeoutMs,
      stdin: "pipe",
      buffer: false,
    });
    const markers: TimedMarker[] = [];
    const serial: Buffer[] = [];
    const scanner = new SerialScanner();
    const onMarkers = (events: SerialEvent[], at: number, cpu: number) => {
      for (const e of events) {
        if (e.kind !== "marker") continue;
        const t = { at, cpu, m: e.marker };
        markers.push(t);
        o.onMarker?.(t);
        if (e.marker.event === "prompt" && e.marker.for === "password") qemu.stdin!.write(`${PASSWORD}\n`);
      }
    };
    qemu.stdout!.on("data", (chunk: Buffer) => {
      serial.push(chunk);
      onMarkers(scanner.push(chunk), performance.now() - t0, cpuSeconds(qemu.pid));
    });
    const r = await qemu;
    const wallMs = performance.now() - t0;
    onMarkers(scanner.end(), wallMs, Number.NaN);
    writeFileSync(join(o.dir, `serial-${o.label}.log`), Buffer.concat(serial));
    const statuses = (await readJournal(join(stateDir, JOURNAL_FILE))).records
      .map((r) => r as { t: string; event?: StatusEvent })
      .filter((r) => r.t === "status" && r.event)
      .map((r) => r.event!);
    return { markers, statuses, exitCode: r.exitCode, wallMs };
  } finally {
    await Promise.all([mp.close(), dp.close()]);
  }
}
