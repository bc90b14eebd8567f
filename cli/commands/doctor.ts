/** `bootmedia doctor`: which external tools and firmware are present, and how to get the rest. */
import type { CAC } from "cac";
import { runDoctor } from "../../core/doctor.ts";
import { printJson } from "./render.ts";

export function registerDoctorCommand(cli: CAC, run: (fn: () => Promise<number>) => void): void {
  cli.command("doctor", "List the external tools and firmware the features need, and the Debian packages that provide them").action((flags: { json?: boolean }) =>
    run(async () => {
      const rows = runDoctor();
      if (flags.json) printJson({ ok: true, requirements: rows });
      else {
        for (const r of rows) process.stdout.write(`${r.present ? "ok     " : "MISSING"}  ${r.name.padEnd(20)} ${r.neededFor.padEnd(48)} apt-get install ${r.debianPackage}\n`);
        const missing = [...new Set(rows.filter((r) => !r.present).map((r) => r.debianPackage))];
        if (missing.length) process.stdout.write(`\nto install the rest: apt-get install -y ${missing.join(" ")}\n`);
      }
      return 0;
    }),
  );
}
export { registerDoctorCommand as register };
