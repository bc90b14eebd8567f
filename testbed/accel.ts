/**
 * Accelerator choice. TCG always works; KVM is used only when asked for and a short probe
 * boot proves guests really run (on some hosts /dev/kvm opens fine but guests hang).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProgram } from "../core/program.ts";
import { DEBUG_EXIT, type Accel } from "./profiles.ts";

/** BIOS boot sector layout (BIOS Boot Specification 1.01, §6.5.1: signature at 510). */
const BOOT_SECTOR = { size: 512, signatureOffset: 510, signature: [0x55, 0xaa] } as const;

/** Real-mode code: `mov al, 0x31; out 0xf4, al; cli; hlt` — the same success exit as the agent. */
const PROBE_CODE = [0xb0, 0x31, 0xe6, DEBUG_EXIT.iobase, 0xfa, 0xf4] as const;

function buildProbeSector(): Uint8Array {
  const sector = new Uint8Array(BOOT_SECTOR.size);
  sector.set(PROBE_CODE, 0);
  sector.set(BOOT_SECTOR.signature, BOOT_SECTOR.signatureOffset);
  return sector;
}

interface ProbeResult {
  ok: boolean;
  ms: number;
  detail: string;
}

/** Boots the probe sector under `accel`; ok only on the distinct success exit in time. */
export async function probeAccel(accel: Accel, timeoutMs = 5000): Promise<ProbeResult> {
  const dir = await mkdtemp(join(tmpdir(), "bm-probe-"));
  const disk = join(dir, "probe.img");
  await writeFile(disk, buildProbeSector());
  const t0 = performance.now();
  try {
    const r = await runProgram(
      "qemu-system-x86_64",
      [
        "-nodefaults",
        "-no-reboot",
        "-display",
        "none",
        "-accel",
        accel,
        "-m",
        "64",
        "-drive",
        `if=ide,format=raw,file=${disk}`,
        "-device",
        `isa-debug-exit,iobase=0x${DEBUG_EXIT.iobase.toString(16)},iosize=0x0${DEBUG_EXIT.iosize}`,
      ],
      { reject: false, timeout: timeoutMs, forceKillAfterDelay: 1000, stdin: "ignore" },
    );
    const ms = Math.round(performance.now() - t0);
    if (r.exitCode === DEBUG_EXIT.successStatus) return { ok: true, ms, detail: `probe boot finished in ${ms} ms` };
    const why = r.timedOut
      ? `did not finish within ${timeoutMs} ms`
      : `exited with ${r.exitCode ?? r.signal}: ${r.stderr.trim().split("\n").at(-1) ?? ""}`;
    return { ok: false, ms, detail: `probe boot under ${accel} ${why}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The accelerator to run with: TCG unless KVM is asked for and the probe passes; a failed
 * probe falls back to TCG and says so through `warn`.
 */
export async function resolveAccel(
  requested: Accel | undefined,
  warn: (message: string) => void,
  probe = probeAccel,
): Promise<Accel> {
  if (requested !== "kvm") return "tcg";
  const result = await probe("kvm");
  if (result.ok) return "kvm";
  warn(`KVM asked for but not usable (${result.detail}); running under TCG instead`);
  return "tcg";
}
