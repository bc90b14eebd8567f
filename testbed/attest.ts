/**
 * A testbed run's verdicts bound to the media's bytes (`bootmedia testbed … --attest-key`):
 * per medium, an in-toto Statement v1 whose subject is the medium (name and the sha256 of
 * the bytes booted, hashed before the run) and whose predicate (TESTBED_PREDICATE_TYPE,
 * docs/sbom.md) lists every case — profile, NIC, verdict, expected verdict, time — and the
 * versions of QEMU, OVMF and bootmedia that judged them; signed as a DSSE envelope.
 */
import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { PACKAGE_VERSION } from "../base/package-root.ts";
import type { SigningKey } from "../core/attest/dsse.ts";
import { mediumSha256 } from "../core/attest/medium-digest.ts";
import { writeFileAtomic } from "../base/atomic-write.ts";
import { attestationText, statement, TESTBED_PREDICATE_TYPE } from "../core/attest/statement.ts";
import { installedDebs } from "../core/host-debs.ts";
import { runProgram } from "../core/program.ts";
import type { TestbedReport } from "./report-model.ts";

const TESTBED_ATTESTATION_SUFFIX = ".testbed.intoto.json";

/** The media's sha256 before they boot: what the verdicts are about. */
export async function hashMedia(paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of paths) out.set(p, await mediumSha256(p));
  return out;
}

/** Who judged: QEMU's own version line, the OVMF and QEMU Debian packages, bootmedia. */
async function judges(): Promise<Record<string, string>> {
  const qemu = await runProgram("qemu-system-x86_64", ["--version"], { reject: false });
  const debs = await installedDebs(["ovmf", "qemu-system-x86"]);
  const deb = (n: string) => debs.find((d) => d.name === n)?.version;
  return {
    bootmedia: PACKAGE_VERSION,
    qemu: qemu.stdout.split("\n")[0]?.trim() || "unknown",
    ...(deb("qemu-system-x86") ? { qemuPackage: `qemu-system-x86 ${deb("qemu-system-x86")}` } : {}),
    ovmf: deb("ovmf") ? `ovmf ${deb("ovmf")}` : "unknown",
  };
}

/** Writes one signed statement per medium into `<reportDir>/attestations/`; returns their paths. */
export async function writeTestbedAttestations(
  report: TestbedReport,
  shas: ReadonlyMap<string, string>,
  signer: SigningKey,
  reportDir: string,
): Promise<string[]> {
  const dir = join(reportDir, "attestations");
  await mkdir(dir, { recursive: true });
  const judgedBy = await judges();
  const finishedOn = new Date().toISOString();
  const written: string[] = [];
  for (const [path, sha256] of shas) {
    const cases = report.cases.filter((c) => c.media.path === path);
    if (cases.length === 0) continue;
    const st = statement({ name: basename(path), digest: { sha256 } }, TESTBED_PREDICATE_TYPE, {
      medium: { name: basename(path), kind: cases[0]!.media.kind },
      accel: report.accel,
      cases: cases.map((c) => ({
        id: c.id,
        profile: c.profile,
        nic: c.nic,
        verdict: c.actual.status,
        ...(c.actual.status === "fail" ? { reason: c.actual.reason } : {}),
        expected: c.expected.status,
        asExpected: c.ok,
        seconds: Math.round(c.timings.verdictMs) / 1000,
      })),
      judgedBy,
      finishedOn,
    });
    const file = join(dir, `${basename(path)}${TESTBED_ATTESTATION_SUFFIX}`);
    writeFileAtomic(file, attestationText(st, signer));
    written.push(file);
  }
  return written;
}
