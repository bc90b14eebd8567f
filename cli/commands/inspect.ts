/** `bootmedia inspect <media> [--check]`: reads media back through the first plugin's inspector that knows it, or checks it. */
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { formatDiagnostic } from "../../base/diagnostics.ts";
import { resolveLazy, type Inspector, type InspectReport } from "../../core/plugin.ts";
import { loadPlugins } from "../../core/load-plugins.ts";
import { builtinInspectors } from "../../plugins/builtin.ts";
import { checkMedia, DEFAULT_WARN_DAYS, type CheckResult } from "../../backends/media-check/check.ts";
import { openMedia } from "../../plugins/media-manifest/open-media.ts";
import { contextFromCli } from "./context.ts";
import { printJson, progressFor } from "./render.ts";
import type { CommandRow, Run } from "./types.ts";
import { formatSecureBoot, reportSecureBoot } from "../../plugins/secure-boot/efi-report.ts";
import { loadSbomReader } from "../../plugins/sbom/index.ts";
import { formatDataDisc, formatStandalone, readDataDisc, readStandalone } from "../../plugins/standalone/index.ts";
import { openMediaSet } from "./open-set.ts";

/** Media kinds whose EFI binaries `inspect` lists (readers of openMedia). */
const SECURE_BOOT_KINDS = ["iso", "usb", "directory"];

interface InspectFlags {
  json?: boolean;
  plugin?: string | string[];
  check?: boolean;
  warnDays?: string | number;
  spec?: string;
}

export function register(cli: CAC, run: Run, _args: string[], row: CommandRow): void {
  cli
    .command(row.usage, row.describe)
    .option("--plugin <module>", "Also try this plugin's reader (path or package name; repeatable)")
    .option(
      "--check",
      "Exit 1 when the media would fail soon: certificate expired/expiring/not yet valid, files differing from the media manifest, machines not covered",
    )
    .option(
      "--warn-days <n>",
      `With --check: a certificate expiring within n days is a finding (default ${DEFAULT_WARN_DAYS})`,
    )
    .option(
      "--spec <file>",
      "With --check: the machines of this (current) spec must be covered, instead of those recorded at build",
    )
    .action((media: string, flags: InspectFlags) =>
      run(async () => {
        const extra: Inspector[] = [];
        const refs = (flags.plugin === undefined ? [] : ([] as string[]).concat(flags.plugin)).map((ref) => ({
          ref,
          baseDir: process.cwd(),
        }));
        for (const p of await loadPlugins(refs))
          if (p.definition.inspector) extra.push(await resolveLazy(p.definition.inspector));
        const inspectors = [...extra, ...(await builtinInspectors())];
        if (flags.check) return check(media, flags, inspectors);
        for (const inspector of inspectors) {
          if (!(await inspector.detect(media))) continue;
          const report = await inspector.inspect(media);
          const opened = SECURE_BOOT_KINDS.includes(String(report.kind))
            ? await openMedia(media, [inspector])
            : undefined;
          const secureBoot = opened ? await reportSecureBoot(opened, kernelsOf(report)) : undefined;
          const standalone = opened ? await readStandalone(opened) : undefined;
          // Disc 2..N of a stand-alone set: pieces only; disc 1 holds the index.
          const dataDisc = opened && !standalone ? await readDataDisc(opened) : undefined;
          const reader = await loadSbomReader();
          const sbom = await reader.sbomBeside(media);
          if (flags.json)
            printJson({
              ok: true,
              ...report,
              ...(standalone ? { standalone } : {}),
              ...(dataDisc ? { standaloneDisc: dataDisc } : {}),
              ...(secureBoot ? { secureBoot } : {}),
              ...(sbom ? { sbom } : {}),
            });
          else
            process.stdout.write(
              inspector.format(report) +
                (standalone ? formatStandalone(standalone) : "") +
                (dataDisc ? `${formatDataDisc(dataDisc)}\n` : "") +
                (secureBoot ? formatSecureBoot(secureBoot) : "") +
                (sbom ? `${reader.formatSbomSummary(sbom, reader.sbomFileFor(media))}\n` : ""),
            );
          return 0;
        }
        throw new BootmediaError(
          "BM1001",
          `${media}: not media bootmedia can read (a media folder, .iso or USB image)`,
          { where: media },
        );
      }),
    );
}

async function check(media: string, flags: InspectFlags, inspectors: Inspector[]): Promise<number> {
  const warnDays = flags.warnDays === undefined ? DEFAULT_WARN_DAYS : Number(flags.warnDays);
  if (!Number.isInteger(warnDays) || warnDays < 0)
    throw new BootmediaError("BM1009", `--warn-days wants a whole number of days, got "${flags.warnDays}"`);
  const machines = flags.spec
    ? (await contextFromCli(flags.spec, {}, progressFor({ json: true, quiet: true }))).ctx.spec.machines
    : undefined;
  // A disc of a stand-alone set is checked with its siblings: the whole set (BM6111, BM6112).
  const opened = await openMediaSet(media, inspectors);
  const result = await checkMedia(opened.media, { warnDays, ...(machines ? { machines } : {}) });
  const failed = result.findings.some((f) => f.severity === "error");
  if (flags.json) printJson({ ok: !failed, ...result, ...(opened.set ? { set: opened.set } : {}) });
  else process.stdout.write(formatCheck(result, failed, opened.set));
  return failed ? 1 : 0;
}

function formatCheck(r: CheckResult, failed: boolean, set?: { id: string; discs: string[] }): string {
  const lines = [`check ${r.media} (${r.kind})`];
  if (set) lines.push(`stand-alone set ${set.id}: ${set.discs.length} discs checked as one: ${set.discs.join(", ")}`);
  if (r.certificate)
    lines.push(
      `certificate "${r.certificate.subject}": valid ${r.certificate.notBefore} .. ${r.certificate.notAfter} (${r.certificate.daysLeft} days left)`,
    );
  lines.push(`files checked against the manifest: ${r.filesChecked}; machines checked: ${r.machinesChecked}`);
  if (r.standalone)
    lines.push(
      `stand-alone package files joined from their pieces and rehashed: ${r.standalone.filesChecked} (${r.standalone.bytesChecked} bytes)`,
    );
  for (const f of r.findings) lines.push(formatDiagnostic(f));
  lines.push(failed ? `FAIL: ${r.findings.filter((f) => f.severity === "error").length} finding(s)` : "OK");
  return lines.join("\n") + "\n";
}

/** The kernels the media configuration names (inspect reads their signatures too). */
function kernelsOf(report: InspectReport): Array<{ path: string; arch: string }> {
  const images = (report.config as { images?: Array<{ arch?: unknown; kernel?: unknown }> } | undefined)?.images;
  return Array.isArray(images)
    ? images.flatMap((i) =>
        typeof i.kernel === "string" && typeof i.arch === "string" ? [{ path: i.kernel, arch: i.arch }] : [],
      )
    : [];
}
