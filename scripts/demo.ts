/**
 * `npm run demo`: from a fresh Debian 12 machine to media that boot, in five visible steps.
 *
 *   1. doctor --install --for demo   (QEMU, OVMF, GRUB, … from the doctor's table)
 *   2. reference boot images          (built from Debian's packages, or the cached ones)
 *   3. build fixtures/specs/demo.yaml as an ISO and a USB image (password, certificate, variables, prestart)
 *   4. start the management point users run, `bootmedia mp serve`, on fixtures/specs/demo-site.yaml
 *   5. boot the ISO once in QEMU on an x64 UEFI machine through the testbed, against that
 *      process: the media password is typed from DEMO_MEDIA_PASSWORD, the machine gets its
 *      policy and runs the task sequence's three steps; `bootmedia mp status` shows the result
 *   6. print where the media, the log and the HTML report are
 *
 * A machine where the packages cannot be installed gets the placeholder demo (media that
 * do not boot) and one line saying why and what to run.
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { isBootmediaError } from "../base/errors.ts";
import { freeLoopbackPort } from "../base/free-port.ts";
import { installMissing, systemHost } from "../core/doctor-install.ts";
import { describeMedia } from "../testbed/media-from-inputs.ts";
import { runTestbed } from "../testbed/testbed.ts";
import { ensureReferenceImages } from "./reference-images.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "out/demo");
const SPEC = join(ROOT, "fixtures/specs/demo.yaml");
const PLACEHOLDER_SPEC = join(ROOT, "fixtures/specs/sample-dir.yaml");
// Each build makes its own self-signed certificate and log beside its output: one folder each.
const ISO = join(OUT, "iso/contoso-demo.iso");
const USB = join(OUT, "usb/contoso-demo.img");
const REPORT = join(OUT, "testbed");
const SITE = join(ROOT, "fixtures/specs/demo-site.yaml");
const MP_STATE = join(OUT, "mp-state");
const STEPS = 6;
const started = performance.now();

const rel = (p: string) => relative(process.cwd(), p) || ".";
const clock = () => `${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s`;
const say = (line: string) => process.stdout.write(`${line}\n`);
const step = (n: number, what: string) => say(`\n[${n}/${STEPS}] ${what}   (${clock()})`);

/** Runs the bootmedia CLI as a user would, output shown as it comes. */
async function bootmedia(args: string[]): Promise<void> {
  say(`$ bootmedia ${args.join(" ")}`);
  await execa(process.execPath, [join(ROOT, "bin/bootmedia.js"), ...args], { stdio: "inherit", cwd: ROOT });
}

/** Today's placeholder demo: the embedded sample content as ISO and USB image; nothing that boots. */
async function placeholderDemo(why: string, todo: string): Promise<void> {
  const iso = join(ROOT, "out/contoso-x64.iso");
  const usb = join(ROOT, "out/contoso-x64.img");
  await bootmedia(["build", rel(PLACEHOLDER_SPEC), "--force", "--target", "iso", "--out", iso]);
  await bootmedia(["build", rel(PLACEHOLDER_SPEC), "--force", "--target", "usb", "--out", usb]);
  say(
    `\ndemo: ${rel(iso)} and ${rel(usb)} hold the placeholder boot image BM100001 and do not boot: ${why}; ${todo}, then \`npm run demo\` again.`,
  );
}

/** `bootmedia mp serve` as its own process, as users run it; resolves once it listens. */
async function startManagementPoint(port: number) {
  const args = ["mp", "serve", "--site", rel(SITE), "--listen", `127.0.0.1:${port}`, "--state-dir", rel(MP_STATE)];
  say(`$ bootmedia ${args.join(" ")} &`);
  const proc = execa(process.execPath, [join(ROOT, "bin/bootmedia.js"), ...args], { cwd: ROOT, reject: false });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr!.on("data", (d: Buffer) => process.stderr.write(d));
  for (let waited = 0; !/ serving /.test(out); waited += 100) {
    if (proc.exitCode !== null || waited > 30_000) throw new Error(`bootmedia mp serve did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  say(`  ${out.trim().split("\n")[0]}`);
  // Wrapped: an awaited execa process would be awaited to its end.
  return { stop: () => proc.kill("SIGTERM"), ended: proc };
}

async function main(): Promise<number> {
  say(
    "bootmedia demo: build media with a password, a certificate, variables and a prestart command, then boot them in QEMU",
  );

  step(1, "Debian packages the demo needs (bootmedia doctor --install --for demo)");
  try {
    const { installed, updateFailed } = await installMissing(systemHost(["demo"]), (l) => say(`  ${l}`));
    say(installed.length ? `  installed: ${installed.join(" ")}` : "  all present");
    if (updateFailed) say("  (apt-get update reported a problem; everything needed got installed anyway)");
  } catch (e) {
    if (!isBootmediaError(e) || !["BM5010", "BM5011"].includes(e.code)) throw e;
    await placeholderDemo(
      `the packages to boot them could not be installed (${e.message})`,
      e.code === "BM5010" ? e.hint.replace(/^Run: /, "run `") + "`" : "fix apt",
    );
    // Like today's placeholder demo, this succeeds: the line above is the last word, not npm's error noise.
    return 0;
  }

  step(2, "reference boot images (kernel, initramfs, GRUB; built once from Debian's packages, then cached)");
  const { built } = await ensureReferenceImages((l) => say(`  ${l}`));
  say(built ? "  built" : "  taken from the cache");

  step(3, "build the media as ISO and USB image (password from DEMO_MEDIA_PASSWORD, self-signed certificate)");
  process.env.DEMO_MEDIA_PASSWORD ??= "Contoso-Demo-2026";
  await rm(OUT, { recursive: true, force: true });
  await bootmedia(["build", rel(SPEC), "--force", "--target", "iso", "--out", ISO]);
  await bootmedia(["build", rel(SPEC), "--force", "--target", "usb", "--out", USB]);

  step(4, "start the management point (bootmedia mp serve): the demo site, its task sequence of three steps");
  const port = await freeLoopbackPort();
  const mp = await startManagementPoint(port);

  step(
    5,
    "boot the ISO in QEMU: x64 UEFI machine, e1000 NIC, against that management point; the testbed types the password",
  );
  const media = await describeMedia(ISO, "demo");
  const report = await runTestbed({
    media: [
      {
        ...media,
        answers: { password: [process.env.DEMO_MEDIA_PASSWORD] },
        // The guest reaches the MP as http://10.0.2.100, the address the demo spec lists.
        managementPoints: { mps: [{ name: "MP1", up: true, url: `http://127.0.0.1:${port}` }] },
      },
    ],
    profiles: ["x64-uefi"],
    nics: ["e1000"],
    concurrency: 1,
    reportDir: REPORT,
    onEvent: (e) => {
      if (e.type === "marker") say(`  ${clock()}  guest: ${JSON.stringify(e.marker)}`);
      if (e.type === "warning") say(`  warning: ${e.message}`);
    },
  });
  const result = report.cases[0]!;
  say(
    `  ${result.ok ? "booted and deployed" : "DID NOT BOOT AS EXPECTED"}: ${result.id} ended ${result.actual.status === "pass" ? "in a pass" : `in ${result.actual.reason}`} after ${(result.timings.verdictMs / 1000).toFixed(1)} s`,
  );
  await bootmedia(["mp", "status", "--state-dir", rel(MP_STATE)]);
  mp.stop();
  await mp.ended;

  step(6, "what the demo produced");
  const screenshot = result.screenshot ? join(REPORT, result.screenshot) : undefined;
  say(`  media:      ${rel(ISO)}  and  ${rel(USB)}  (each with its media certificate, contoso-demo.cer, beside it)`);
  say(`  build logs: ${rel(`${ISO}.bootmedia.log`)}  and  ${rel(`${USB}.bootmedia.log`)}`);
  say(`  report:     ${rel(join(REPORT, "index.html"))}  (serial log: ${rel(join(REPORT, result.serialLog))})`);
  say(
    `  MP state:   ${rel(MP_STATE)}  (journal.jsonl; the machine's log under logs/; \`bootmedia mp status --state-dir ${rel(MP_STATE)}\`)`,
  );
  if (screenshot && existsSync(screenshot)) say(`  screenshot: ${rel(screenshot)}`);
  say(`\ndemo ${result.ok ? "done" : "FAILED"} in ${clock().trim()}`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(
      isBootmediaError(e)
        ? `error ${e.code}: ${e.message}\n  hint: ${e.hint}\n`
        : `demo failed: ${e instanceof Error ? e.message : String(e)}\n`,
    );
    process.exit(1);
  },
);
