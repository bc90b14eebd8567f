/**
 * `bootmedia testbed <spec-or-media...>` boots media in QEMU on a matrix of machines and
 * reports; `bootmedia testbed merge <dirs...>` joins shard results into one report.
 */
import type { CAC } from "cac";
import { join, resolve } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { buildMedia } from "../../core/run.ts";
import { contextFromCli } from "./context.ts";
import { printJson, progressFor } from "./render.ts";
import { runTestbed, mergeReports } from "../../testbed/testbed.ts";
import { resolveShard } from "../../testbed/farm/shard-env.ts";
import { MEDIA_KINDS, PROFILE_IDS, type MediaKind, type ProfileId } from "../../testbed/profiles.ts";
import { buildSpecMedia, describeMedia, isSpecFile } from "../../testbed/media-from-inputs.ts";
import type { CaseResult } from "../../testbed/runner.ts";
import { DEFAULT_ANSWERS, type PromptAnswers } from "../../testbed/answers.ts";
import { Redactor, resolveSecret } from "../../core/secrets.ts";
import "../../core/codes.ts";
import { runSiteFile } from "./testbed-site.ts";
import { parseMemoryOption } from "../../testbed/memory.ts";
import type { PassPattern } from "../../testbed/pass-pattern.ts";
import { runFarm, type FarmFlags } from "./testbed-farm.ts";
import type { CaseManagementPoints } from "../../testbed/mp-case.ts";
import { planMpNetwork } from "../../testbed/mp/network.ts";
import { hashMedia, writeTestbedAttestations } from "../../testbed/attest.ts";
import { loadSigningKey } from "../../core/attest/dsse.ts";
import { parseSecretFlag } from "../../core/spec-flags.ts";

/**
 * `--answer KEY=VALUE` (repeatable, in order): what the testbed types at the boot
 * environment's prompts. Secret answers by reference: `password=env:NAME`, `password=file:PATH`.
 */
async function parseAnswers(raw: string | string[] | undefined): Promise<PromptAnswers | undefined> {
  if (raw === undefined) return undefined;
  const out: Record<string, string[]> = {};
  const redactor = new Redactor();
  for (const item of ([] as string[]).concat(raw)) {
    const i = String(item).indexOf("=");
    if (i <= 0)
      throw new BootmediaError("BM1009", `--answer wants KEY=VALUE (e.g. password=env:MEDIA_PASSWORD), got "${item}"`);
    const key = String(item).slice(0, i);
    let value = String(item).slice(i + 1);
    const ref = value.match(/^(env|file):(.+)$/);
    if (ref)
      value = await resolveSecret(
        ref[1] === "env" ? { env: ref[2]! } : { file: ref[2]! },
        process.cwd(),
        redactor,
        `--answer ${key}`,
      );
    else if (key === "password")
      throw new BootmediaError("BM1006", "--answer password takes env:NAME or file:PATH, never the password itself");
    (out[key] ??= []).push(value);
  }
  return out;
}

interface TestbedFlags extends Omit<FarmFlags, "accel"> {
  partial?: boolean;
  answer?: string | string[];
  profiles?: string;
  media?: string;
  nics?: string;
  concurrency?: string;
  shard?: string;
  reportDir?: string;
  accel?: "tcg" | "kvm";
  timeout?: string;
  site?: string;
  passSerial?: string;
  passScreen?: string;
  memory?: string;
  mp?: string | string[];
  attestKey?: string | string[];
  json?: boolean;
  quiet?: boolean;
}

/** `--pass-serial` / `--pass-screen` as the media's pass pattern (checked by the testbed, BM5012). */
function passFromFlags(flags: TestbedFlags): PassPattern | undefined {
  const pass: PassPattern = {
    ...(flags.passSerial !== undefined ? { serial: String(flags.passSerial) } : {}),
    ...(flags.passScreen !== undefined ? { screen: String(flags.passScreen) } : {}),
  };
  return Object.keys(pass).length > 0 ? pass : undefined;
}

const list = (s: string | undefined) =>
  s
    ? String(s)
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;

/** `--mp URL` (repeatable): MPs the user runs, in guest-address order; checked by planMpNetwork (BM5018). */
function externalMps(raw: string | string[] | undefined): CaseManagementPoints | undefined {
  if (raw === undefined) return undefined;
  const urls = ([] as string[]).concat(raw).map(String);
  planMpNetwork(urls.map((url, i) => ({ name: `MP${i + 1}`, url })));
  return { mps: urls.map((url, i) => ({ name: `MP${i + 1}`, up: true, url })) };
}

function caseLine(r: CaseResult): string {
  const actual = r.actual.status === "pass" ? "pass" : `fail (${r.actual.reason})`;
  const expected = r.expected.status === "pass" ? "pass" : `fail (${r.expected.reason})`;
  const matched = r.passMatch ? ` (${r.passMatch.source} showed "${r.passMatch.text}")` : "";
  return `${r.ok ? "ok      " : "MISMATCH"} ${r.id}: expected ${expected}, got ${actual}${matched} in ${(r.timings.verdictMs / 1000).toFixed(1)} s`;
}

export function registerTestbedCommand(cli: CAC, run: (fn: () => Promise<number>) => void): void {
  cli
    .command(
      "testbed [...inputs]",
      "Boot media (or specs, built first) in QEMU on a matrix of machines; `testbed merge <dirs...>` joins shard reports; `testbed farm` writes the jobs of a Slurm, GitHub, GitLab or Kubernetes farm",
    )
    .option("--profiles <list>", `Machine profiles (default: ${PROFILE_IDS.join(",")})`)
    .option("--media <list>", "For specs: media kinds to build and boot (iso,usb)", { default: "iso,usb" })
    .option("--nics <list>", "NIC models (default: e1000,virtio-net-pci,rtl8139)")
    .option("--concurrency <n>", "Cases at once (default: cores)")
    .option(
      "--shard <i/n|auto[/n]>",
      "Run only shard i of n (1-based); auto: from the engine (Slurm array, Kubernetes Indexed Job with auto/n, GitLab/Buildkite parallel jobs); merge shards with `testbed merge`",
    )
    .option("--report-dir <dir>", "Where results.json, junit.xml and index.html go", { default: "out/testbed" })
    .option("--accel <tcg|kvm>", "Accelerator; kvm only after a probe boot proves it works", { default: "tcg" })
    .option("--timeout <s>", "Per-case timeout in seconds")
    .option(
      "--site <site.yaml>",
      'Run the management-point cases of a site file (docs/testbed.md, "Site files"); expected outcomes derived from the site and the media',
    )
    .option(
      "--pass-serial <regex>",
      "Pass when this regular expression shows on the serial line (images without the bootmedia agent, e.g. an installer started with console=ttyS0)",
    )
    .option(
      "--pass-screen <regex>",
      "Pass when this regular expression shows on the VGA text screen (BIOS text mode; docs/testbed.md)",
    )
    .option(
      "--memory <MiB|profile=MiB,...>",
      "Machine memory: one figure for every profile or per profile (default 512 each); a boot image's testbed.memoryMiB raises it",
    )
    .option(
      "--partial",
      "merge: report the cases of a shard that left no results as not run (exit 1) instead of refusing",
    )
    .option("--engine <name>", "farm: slurm, github, gitlab or kubernetes")
    .option("--shards <n>", "farm: how many shards")
    .option("--max-parallel <k>", "farm: shards running at once (default: all)")
    .option("--out <dir>", "farm: a new folder for the engine's files (default out/farm)")
    .option("--image <ref>", "farm: the container image (Kubernetes; GitLab's job image, default node:20-bookworm)")
    .option(
      "--bootmedia <command>",
      "farm: how the engine's machines start bootmedia (default: this installation on Slurm, npx bootmedia on CI, bootmedia in the image)",
    )
    .option(
      "--times <dir>",
      "farm: the report folder of an earlier run whose per-case times feed the capacity plan (default out/testbed)",
    )
    .option(
      "--mp <url>",
      "Boot against a management point you run (`bootmedia mp serve`), as the host reaches it; repeatable, in order: the guest reaches the first as http(s)://10.0.2.100, the next as .101 (build the media with those)",
    )
    .option(
      "--attest-key <env:NAME|file:PATH>",
      "Sign, per medium, a statement of its sha256 and every case's verdict (Ed25519 or ECDSA P-256 PEM key, by reference); written to <report-dir>/attestations/",
    )
    .option(
      "--answer <key=value>",
      "Type this at the boot prompt `key` (repeatable, in order); password=env:NAME or password=file:PATH",
    )
    .action((inputs: string[], flags: TestbedFlags) =>
      run(async () => {
        const reportDir = resolve(flags.reportDir ?? "out/testbed");
        if (flags.site) return runSiteFile(flags.site, reportDir, flags);
        if (inputs[0] === "farm") return runFarm(inputs.slice(1), flags);
        if (inputs[0] === "merge") {
          const merged = await mergeReports(
            inputs.slice(1).map((d) => resolve(d)),
            reportDir,
            { partial: flags.partial === true },
          );
          if (flags.json)
            printJson({ ok: merged.summary.mismatched === 0, report: reportDir, summary: merged.summary });
          else
            process.stdout.write(
              `${merged.summary.ok}/${merged.summary.total} cases as expected; report in ${join(reportDir, "index.html")}\n`,
            );
          if (merged.notRun && !flags.json)
            for (const n of merged.notRun)
              process.stderr.write(
                `NOT RUN  shard ${n.shard.index}/${n.shard.count} (${n.cases.length} cases): ${n.why}\n`,
              );
          return merged.summary.mismatched === 0 && !merged.notRun ? 0 : 1;
        }
        if (inputs.length === 0) throw new BootmediaError("BM1009", "testbed needs a spec or a media file");
        // Before any media is built: a shard the environment cannot give is an error at once.
        const shard = flags.shard ? resolveShard(String(flags.shard)) : undefined;
        const kinds = (list(flags.media) ?? ["iso", "usb"]).map((k) => {
          if (!(MEDIA_KINDS as readonly string[]).includes(k))
            throw new BootmediaError("BM1009", `unknown media kind ${k} (iso, usb)`);
          return k as MediaKind;
        });
        const media = [];
        for (const input of inputs) {
          if (!isSpecFile(input)) {
            media.push(await describeMedia(resolve(input)));
            continue;
          }
          media.push(
            ...(await buildSpecMedia(input, kinds, join(reportDir, "media"), async (spec, kind, out) => {
              const { ctx, plugins } = await contextFromCli(
                spec,
                { force: true, target: kind, out },
                progressFor({ json: flags.json === true, quiet: true }),
              );
              await buildMedia(ctx, plugins);
            })),
          );
        }
        // debian.iso and debian.img would both be "debian": such labels get their kind.
        const shared = new Set(media.map((m) => m.label).filter((l, i, all) => all.indexOf(l) !== i));
        for (const m of media) if (shared.has(m.label)) m.label = `${m.label}-${m.kind}`;
        // The key before any boot (a bad one costs no QEMU run); the media hashed before they boot.
        const attestKey =
          flags.attestKey === undefined ? undefined : String(([] as string[]).concat(flags.attestKey).pop());
        const signer = attestKey
          ? await loadSigningKey(
              parseSecretFlag("--attest-key", attestKey),
              process.cwd(),
              new Redactor(),
              "--attest-key",
            )
          : undefined;
        const shas = signer ? await hashMedia(media.map((m) => m.path)) : undefined;
        const answers = await parseAnswers(flags.answer);
        const pass = passFromFlags(flags);
        const mps = externalMps(flags.mp);
        const report = await runTestbed({
          media: media.map((m) => ({
            ...m,
            ...(answers ? { answers: { ...DEFAULT_ANSWERS, ...answers } } : {}),
            ...(pass ? { pass } : {}),
            ...(mps ? { managementPoints: mps } : {}),
          })),
          ...(flags.memory ? { memoryMiB: parseMemoryOption(String(flags.memory)) } : {}),
          ...(list(flags.profiles) ? { profiles: list(flags.profiles) as ProfileId[] } : {}),
          ...(list(flags.nics) ? { nics: list(flags.nics)! } : {}),
          ...(flags.concurrency ? { concurrency: Number(flags.concurrency) } : {}),
          ...(shard ? { shard } : {}),
          ...(flags.timeout ? { timeoutSec: Number(flags.timeout) } : {}),
          accel: flags.accel ?? "tcg",
          reportDir,
          onEvent: (e) => {
            if (flags.json || flags.quiet) return;
            if (e.type === "matrix")
              process.stderr.write(`testbed: ${e.selected} of ${e.total} cases, accelerator ${e.accel}\n`);
            if (e.type === "case-end") process.stderr.write(caseLine(e.result) + "\n");
            if (e.type === "warning") process.stderr.write(`warning: ${e.message}\n`);
          },
        });
        const attestations = signer && shas ? await writeTestbedAttestations(report, shas, signer, reportDir) : [];
        if (!flags.json) for (const a of attestations) process.stderr.write(`signed statement: ${a}\n`);
        if (flags.json)
          printJson({
            ok: report.summary.mismatched === 0,
            report: reportDir,
            summary: report.summary,
            ...(signer ? { attestations } : {}),
            cases: report.cases.map((c) => ({ id: c.id, ok: c.ok, expected: c.expected, actual: c.actual })),
          });
        else
          process.stdout.write(
            `${report.summary.ok}/${report.summary.total} cases as expected; report in ${join(reportDir, "index.html")}\n`,
          );
        return report.summary.mismatched === 0 ? 0 : 1;
      }),
    );
}
export { registerTestbedCommand as register };
