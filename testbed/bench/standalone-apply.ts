/**
 * In-guest apply rate from stand-alone media: `os-image build`'s Debian 12 (x64, zstd) on
 * stand-alone USB media, protected (AES-256-CTR decrypted while streaming, the HMAC tag on a
 * branch) and unprotected (`--allow-unprotected`: the plaintext sha256 on the branch), each
 * deployed by the testbed on the same machine (x64 UEFI, no NIC, virtio disk, TCG, one vCPU),
 * one case at a time, rounds alternating the order; the task sequence ends after apply-image. The figure is the engine's own: the last
 * apply-progress marker (the image written and synced) — seconds and MiB/s of the raw image —
 * and the ratio protected / unprotected per round (goal ≥ 0.8).
 * Run: npm run bench:standalone-apply [-- --rounds 2]   (builds or takes the OS image from the cache)
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { debianStandaloneLibrary } from "../testing/standalone-library.ts";
import { bin, loadAverage, median, roundsArg } from "../../testing/process-bench.ts";

const BASE = process.env.BENCH_DIR ?? "/tmp/bootmedia-bench-standalone-apply";
const PW = "Bench-Horse-9-battery";
const ROUNDS = roundsArg(1);
const MiB = 2 ** 20;

const sh = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  execFileSync(cmd, args, { stdio: "pipe", encoding: "utf8", maxBuffer: 64 * MiB, ...opts });

interface Apply {
  seconds: number;
  bytes: number;
}

/** The library (reference boot image, the OS image, a task sequence applying it) and the two specs. */
async function prepare(): Promise<void> {
  await rm(BASE, { recursive: true, force: true });
  await mkdir(BASE, { recursive: true });
  await debianStandaloneLibrary(
    BASE,
    (os) =>
      `steps:\n  - { name: Pick the disk, type: select-disk }\n  - { name: Apply, type: apply-image, package: ${os} }\n`,
  );
  for (const [name, extra] of [
    ["protected", "security: { password: { env: MEDIA_PW } }\n"],
    ["unprotected", "security: { allowUnprotected: true }\n"],
  ])
    await writeFile(
      join(BASE, `${name}.yaml`),
      `name: ${name}\nbootImage: [BM100064]\ntaskSequence: TS000001\nmediaType: standalone\ncontentLibrary: lib\ntarget: { type: usb, output: ${name}.img }\nunattended: true\n${extra}`,
    );
}

/** One deploy of `name` in the testbed; the engine's figures for apply-image. */
async function deploy(name: string, round: number): Promise<Apply> {
  const dir = join(BASE, `r${round}-${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "site.yaml"),
    `media: { m: ../${name}.yaml }\ncases:\n  - { name: ${name}, media: m, profile: x64-uefi, nic: none, disk: { size: 2GiB, bus: virtio }${name === "protected" ? ', answers: { password: ["env:MEDIA_PW"] }' : ""} }\n`,
  );
  // The task sequence ends after apply-image (no restart, no second boot): the case's verdict
  // says no-restart; the figure is the engine's, and the step must have succeeded.
  try {
    sh("node", [bin(), "testbed", "--site", "site.yaml", "--report-dir", "report", "--json", "--concurrency", "1"], {
      cwd: dir,
      env: { ...process.env, MEDIA_PW: PW },
    });
  } catch {}
  const serial = await readFile(join(dir, "report/x64-uefi-none/cases", `x64-uefi.${name}.none`, "serial.log"), "utf8");
  const markers = serial
    .split("\n")
    .filter((l) => l.includes("BOOTMEDIA {"))
    .map((l) => JSON.parse(l.slice(l.indexOf("{"))) as Record<string, unknown>);
  if (!markers.some((m) => m.event === "step" && m.type === "apply-image" && m.state === "success"))
    throw new Error(`${name}: apply-image did not succeed (${dir}/report)`);
  const last = markers.filter((m) => m.event === "apply-progress").at(-1) as { total: number; seconds: number };
  return { seconds: last.seconds, bytes: last.total };
}

const rate = (a: Apply) => a.bytes / MiB / a.seconds;

await prepare();
const rows: Array<{ protected: Apply; unprotected: Apply }> = [];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? (["unprotected", "protected"] as const) : (["protected", "unprotected"] as const);
  const got: Partial<Record<(typeof order)[number], Apply>> = {};
  for (const name of order) got[name] = await deploy(name, r + 1);
  const row = { protected: got.protected!, unprotected: got.unprotected! };
  rows.push(row);
  console.log(
    `round ${r + 1} (${order.join(" then ")}; load ${await loadAverage()}): unprotected ${row.unprotected.seconds.toFixed(1)} s ${rate(row.unprotected).toFixed(1)} MiB/s, protected ${row.protected.seconds.toFixed(1)} s ${rate(row.protected).toFixed(1)} MiB/s, ratio ${(rate(row.protected) / rate(row.unprotected)).toFixed(2)}`,
  );
}
const ratios = rows.map((r) => rate(r.protected) / rate(r.unprotected));
console.log(
  `\napply-image of ${(rows[0]!.protected.bytes / MiB).toFixed(0)} MiB from stand-alone USB media, in the guest (TCG, one vCPU), median of ${rows.length}:`,
);
console.log(`  unprotected (sha256 branch)          ${median(rows.map((r) => rate(r.unprotected))).toFixed(1)} MiB/s`);
console.log(`  protected (AES-256-CTR + HMAC tag)   ${median(rows.map((r) => rate(r.protected))).toFixed(1)} MiB/s`);
console.log(`  protected / unprotected              ${median(ratios).toFixed(2)}  (goal >= 0.8)`);
