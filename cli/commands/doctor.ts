/**
 * `bootmedia doctor [--for features] [--install]`: which external tools and firmware are
 * present, and how to get the rest; `--install` installs the missing Debian packages.
 */
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { FEATURES, missingArchitectures, requirementsFor, runDoctor, type Feature } from "../../core/doctor.ts";
import { installMissing, systemHost } from "../../core/doctor-install.ts";
import { printJson } from "./render.ts";

/** `--for demo,tests` → the features (default: all of them). */
export function parseFeatures(raw: string | undefined): Feature[] {
  if (!raw) return [...FEATURES];
  return String(raw)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((f) => {
      if (!(FEATURES as readonly string[]).includes(f))
        throw new BootmediaError("BM1009", `unknown feature "${f}" for --for (${FEATURES.join(", ")})`);
      return f as Feature;
    });
}

export function registerDoctorCommand(cli: CAC, run: (fn: () => Promise<number>) => void): void {
  cli
    .command(
      "doctor",
      "List the external tools and firmware the features need, and the Debian packages that provide them",
    )
    .option("--for <features>", `Only what these features need (${FEATURES.join(", ")}; default: all)`)
    .option(
      "--install",
      "Install the missing Debian packages (as root or through sudo; otherwise print the command and exit 1)",
    )
    .action((flags: { json?: boolean; quiet?: boolean; for?: string; install?: boolean }) =>
      run(async () => {
        const features = parseFeatures(flags.for);
        if (flags.install) {
          const log = (line: string) => {
            if (!flags.json && !flags.quiet) process.stderr.write(`doctor: ${line}\n`);
          };
          const outcome = await installMissing(systemHost(features), log);
          if (flags.json) printJson({ ok: true, ...outcome });
          else if (outcome.installed.length === 0)
            process.stdout.write(
              `doctor: everything ${features.join(", ")} need${features.length === 1 ? "s" : ""} is installed\n`,
            );
          else
            process.stdout.write(
              `doctor: installed ${outcome.installed.length} package${outcome.installed.length === 1 ? "" : "s"}: ${outcome.installed.join(" ")}\n`,
            );
          return 0;
        }
        const rows = runDoctor(requirementsFor(features));
        const architectures = missingArchitectures(features);
        if (flags.json) printJson({ ok: true, requirements: rows, missingArchitectures: architectures });
        else {
          for (const r of rows)
            process.stdout.write(
              `${r.present ? "ok     " : "MISSING"}  ${r.name.padEnd(20)} ${r.neededFor.padEnd(48)} apt-get install ${r.debianPackage}\n`,
            );
          for (const a of architectures)
            process.stdout.write(`MISSING  dpkg architecture ${a}  (dpkg --add-architecture ${a})\n`);
          const missing = [...new Set(rows.filter((r) => !r.present).map((r) => r.debianPackage))];
          if (missing.length || architectures.length)
            process.stdout.write(
              `\nto install the rest: bootmedia doctor --install${flags.for ? ` --for ${flags.for}` : ""}\n`,
            );
        }
        return 0;
      }),
    );
}
export { registerDoctorCommand as register };
