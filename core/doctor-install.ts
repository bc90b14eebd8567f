/**
 * `bootmedia doctor --install`: installs the Debian packages the chosen features need and
 * the doctor finds missing, from the doctor's one table. As root, or through sudo; without
 * either it names what is missing and the one command to run (BM5010).
 */
import { spawnSync } from "node:child_process";
import { execa } from "execa";
import { BootmediaError } from "../base/errors.ts";
import { missingArchitectures, requirementsFor, runDoctor, which, type DoctorRow, type Feature } from "./doctor.ts";

export type Privilege = "root" | "sudo" | "none";

interface InstallPlan {
  /** Debian packages to install, each once, in table order. */
  packages: string[];
  /** dpkg foreign architectures to add first. */
  architectures: string[];
  /** The rows that are missing (what the packages provide). */
  missing: DoctorRow[];
}

/** What the installer does to the machine; a test gives a fake one. */
export interface InstallHost {
  privilege: Privilege;
  hasApt: boolean;
  /** Checks the features' requirements now (the doctor's table). */
  check(): { rows: DoctorRow[]; architectures: string[] };
  /** Runs one command as root (prefixing sudo where needed); never throws on exit codes. */
  run(argv: string[]): Promise<{ exitCode: number; output: string }>;
  /** Which of `packages` dpkg reports as installed. */
  installed(packages: string[]): Promise<string[]>;
}

interface InstallOutcome {
  /** Packages this run installed (dpkg says so now). */
  installed: string[];
  /** `apt-get update` exited non-zero (one stale index does that); the install went on. */
  updateFailed: boolean;
}

export function planInstall(rows: readonly DoctorRow[], architectures: readonly string[]): InstallPlan {
  const missing = rows.filter((r) => !r.present);
  return { packages: [...new Set(missing.map((r) => r.debianPackage))], architectures: [...architectures], missing };
}

/** The commands, in order; `apt-get update` may fail (see installMissing). */
function installSteps(plan: InstallPlan): string[][] {
  return [
    ...plan.architectures.map((a) => ["dpkg", "--add-architecture", a]),
    ["apt-get", "update"],
    ["apt-get", "install", "-y", "--no-install-recommends", ...plan.packages],
  ];
}

/** The one command a user without the rights runs (through sudo where it exists, else su). */
export function installCommandLine(plan: InstallPlan, via: "sudo" | "su"): string {
  const steps = installSteps(plan).map((argv) => argv.join(" "));
  const script = steps.join("; ");
  return via === "sudo" ? `sudo sh -c '${script}'` : `su -c '${script}'`;
}

const describeMissing = (rows: readonly DoctorRow[]) => rows.map((r) => `${r.name} (${r.debianPackage})`).join(", ");

/**
 * Installs what `host.check()` finds missing and checks again; resolves with what was
 * installed. Throws BM5010 when it cannot install (no apt, no root, no sudo) and BM5011
 * when something is still missing after apt-get.
 */
export async function installMissing(host: InstallHost, log: (line: string) => void): Promise<InstallOutcome> {
  const before = host.check();
  const plan = planInstall(before.rows, before.architectures);
  if (plan.packages.length === 0 && plan.architectures.length === 0) return { installed: [], updateFailed: false };
  if (!host.hasApt) {
    throw new BootmediaError(
      "BM5010",
      `missing, and this machine has no apt-get to install them: ${describeMissing(plan.missing)}`,
      {
        hint: `Install these Debian packages (or your system's equivalents): ${plan.packages.join(" ")}`,
      },
    );
  }
  if (host.privilege === "none") {
    throw new BootmediaError("BM5010", `missing, and installing needs root: ${describeMissing(plan.missing)}`, {
      hint: `Run: ${installCommandLine(plan, which("sudo") ? "sudo" : "su")}`,
    });
  }
  const how = host.privilege === "sudo" ? " (through sudo)" : "";
  let updateFailed = false;
  for (const argv of installSteps(plan)) {
    const start = performance.now();
    log(`${argv.join(" ")}${how}${argv[1] === "install" ? " (downloads may take a while)" : ""}`);
    const r = await host.run(argv);
    const secs = ((performance.now() - start) / 1000).toFixed(1);
    if (r.exitCode === 0) {
      log(`  done in ${secs} s`);
      continue;
    }
    if (argv[1] === "update") {
      // One stale or unreachable index fails the whole update; what we need may still be there.
      updateFailed = true;
      log(`  apt-get update exited ${r.exitCode} after ${secs} s; going on and checking what gets installed`);
      continue;
    }
    log(`  exited ${r.exitCode} after ${secs} s:\n${tail(r.output)}`);
  }
  const after = host.check();
  const still = after.rows.filter((r) => !r.present);
  const installed = await host.installed(plan.packages);
  if (still.length > 0 || after.architectures.length > 0) {
    const what = [
      ...(still.length ? [describeMissing(still)] : []),
      ...after.architectures.map((a) => `dpkg architecture ${a}`),
    ].join(", ");
    throw new BootmediaError("BM5011", `still missing after apt-get install: ${what}`, {
      hint: `apt-get could not install them (see its output above); fix the package sources, then run \`bootmedia doctor --install\` again`,
    });
  }
  return { installed, updateFailed };
}

function tail(text: string, lines = 12): string {
  return text
    .trim()
    .split("\n")
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join("\n");
}

function detectPrivilege(): Privilege {
  if (process.getuid?.() === 0) return "root";
  if (!which("sudo")) return "none";
  // sudo that would ask for a password only works where someone can type it.
  if (process.stdin.isTTY) return "sudo";
  return spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0 ? "sudo" : "none";
}

/** The real machine: apt-get and dpkg, as root or through sudo. */
export function systemHost(features: readonly Feature[]): InstallHost {
  const privilege = detectPrivilege();
  const prefix = privilege === "sudo" ? ["sudo", "env", "DEBIAN_FRONTEND=noninteractive"] : [];
  return {
    privilege,
    hasApt: which("apt-get") !== undefined && which("dpkg") !== undefined,
    check: () => ({ rows: runDoctor(requirementsFor(features)), architectures: missingArchitectures(features) }),
    async run(argv) {
      const full = [...prefix, ...argv];
      const r = await execa(full[0]!, full.slice(1), {
        reject: false,
        all: true,
        stdin: "inherit",
        env: { DEBIAN_FRONTEND: "noninteractive" },
      });
      return { exitCode: r.exitCode ?? 1, output: r.all ?? "" };
    },
    async installed(packages) {
      const r = await execa("dpkg-query", ["-W", "-f", "${Package} ${db:Status-Status}\\n", ...packages], {
        reject: false,
      });
      return r.stdout
        .split("\n")
        .filter((l) => l.endsWith(" installed"))
        .map((l) => l.split(" ")[0]!)
        .filter((p) => packages.includes(p));
    },
  };
}
