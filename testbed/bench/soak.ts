/**
 * Soak: the whole matrix on media the project itself builds (`npm run soak:testbed [-- --shard i/n]
 * [--report DIR] [--concurrency N]`). Builds fixtures/specs/reference.yaml as ISO and as USB
 * image through the CLI, then boots both on every profile × NIC. Needs `npm run fixtures`.
 * Exits non-zero when any case does not match its expected verdict.
 */
import { execa } from "execa";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runTestbed } from "../testbed.ts";
import { parseShard } from "../matrix.ts";
import { NIC_IDS } from "../profiles.ts";
import { hasReferencePackages, readReferenceManifest } from "../testing/reference-media.ts";

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

async function main(): Promise<number> {
  if (!hasReferencePackages()) throw new Error("reference boot images missing: run `npm run fixtures` first");
  const work = await mkdtemp(join(tmpdir(), "bm-soak-"));
  const spec = "fixtures/specs/reference.yaml";
  const iso = join(work, "reference.iso");
  const usb = join(work, "reference.img");
  await execa("node", ["bin/bootmedia.js", "build", spec, "--target", "iso", "--out", iso, "--force", "--quiet"], {
    stdio: "inherit",
  });
  await execa("node", ["bin/bootmedia.js", "build", spec, "--target", "usb", "--out", usb, "--force", "--quiet"], {
    stdio: "inherit",
  });
  const drivers = [
    ...new Set([
      ...(await readReferenceManifest("x86")).bootImage.drivers,
      ...(await readReferenceManifest("x64")).bootImage.drivers,
    ]),
  ];
  const shard = option("shard");
  const reportDir = resolve(option("report") ?? "out/testbed-soak");
  const report = await runTestbed({
    media: [
      { kind: "iso", path: iso, images: ["x86", "x64"], drivers, label: "reference" },
      { kind: "usb", path: usb, images: ["x86", "x64"], drivers, label: "reference-usb" },
    ],
    nics: NIC_IDS,
    concurrency: option("concurrency") ? Number(option("concurrency")) : undefined,
    shard: shard ? parseShard(shard) : undefined,
    reportDir,
    onEvent: (e) => {
      if (e.type === "case-end")
        console.log(
          `${e.result.ok ? "ok  " : "FAIL"} ${e.result.id}: ${e.result.actual.status === "pass" ? "pass" : e.result.actual.reason} (${(e.result.timings.verdictMs / 1000).toFixed(1)} s)`,
        );
      if (e.type === "warning") console.warn(e.message);
    },
  });
  console.log(`${report.summary.ok}/${report.summary.total} as expected; report in ${reportDir}/index.html`);
  return report.summary.mismatched === 0 ? 0 : 1;
}

process.exitCode = await main();
