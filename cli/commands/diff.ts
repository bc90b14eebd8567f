/** `bootmedia diff <a> <b>`: a semantic diff of two media (any mix of folder, ISO, USB image). Exit 0 equal, 1 different. */
import type { CAC } from "cac";
import { printJson } from "./render.ts";
import { builtinInspectors } from "../../plugins/builtin.ts";
import { openMediaSet } from "./open-set.ts";
import { diffMedia, formatDiff } from "../../backends/media-diff/diff.ts";
import type { CommandRow, Run } from "./types.ts";
import { loadSbomReader } from "../../plugins/sbom/index.ts";

function formatPackageChanges(changes: Array<{ key: string; name: string; from?: string; to?: string }>): string {
  if (changes.length === 0) return "packages (SBOMs): no version changes\n";
  const lines = [`packages (SBOMs): ${changes.length} changed`];
  for (const c of changes)
    lines.push(
      `  ${c.key.startsWith("certificate:") ? `certificate ${c.name}` : c.key}: ${c.from ?? "(absent)"} -> ${c.to ?? "(absent)"}`,
    );
  return `${lines.join("\n")}\n`;
}

export function register(cli: CAC, run: Run, _args: string[], row: CommandRow): void {
  cli.command(row.usage, row.describe).action((a: string, b: string, flags: { json?: boolean }) =>
    run(async () => {
      const inspectors = await builtinInspectors();
      // A disc of a stand-alone set stands for its set (its facts are disc 1's index).
      const diff = await diffMedia(
        (await openMediaSet(a, inspectors)).media,
        (await openMediaSet(b, inspectors)).media,
      );
      // The package versions, from the SBOMs beside both media (when both have one).
      const reader = await loadSbomReader();
      const [sa, sb] = await Promise.all([reader.sbomBeside(a), reader.sbomBeside(b)]);
      const packages = sa && sb ? reader.diffSboms(sa, sb) : undefined;
      if (flags.json) printJson({ ok: true, ...diff, ...(packages ? { packages } : {}) });
      else {
        process.stdout.write(formatDiff(diff));
        if (packages) process.stdout.write(formatPackageChanges(packages));
      }
      return diff.equal && (packages ?? []).length === 0 ? 0 : 1;
    }),
  );
}
