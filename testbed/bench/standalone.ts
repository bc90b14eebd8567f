/**
 * Stand-alone media bench, as users run it: `bootmedia build` of stand-alone media holding a
 * 2 GiB OS image (sparse, 64 MiB of random data spread over it, in a temporary content
 * library), protected with a media password, as (a) USB media and (b) a 3-disc CD set
 * (`capacity: cd700`), each against `cat` + `sync` of the same cached bytes into files of the
 * same total size (the set: three files of its discs' sizes). Whole processes under GNU time
 * (wall time, peak RSS); every contender pays the same durability (bootmedia fsyncs before
 * its atomic rename, the others end with `sync -d` of their files); the content cache is warm
 * (one unmeasured build of each first, which also gives the sizes). Rounds alternate the
 * order; printed per round and as medians: seconds, the paired ratio to cat + sync, peak RSS,
 * and where each build's time went (its build log's stage lines).
 * Run: npm run bench:standalone [-- --rounds 3]  (BENCH_DIR: where the ~10 GiB of scratch go)
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, statSync, writeSync } from "node:fs";
import { cp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  bin,
  loadAverage,
  median,
  mib,
  rotation,
  roundsArg,
  runProcess,
  runShell,
  sec,
  spread,
  type ProcessRun,
} from "../../testing/process-bench.ts";

const ROOT = join(import.meta.dirname, "../..");
const BASE = process.env.BENCH_DIR ?? "/tmp/bootmedia-bench-standalone";
const LIB = join(BASE, "lib");
const CACHE = join(BASE, "cache");
const OUT = join(BASE, "out");
const MiB = 2 ** 20;
const IMAGE_BYTES = 2048 * MiB;
const RANDOM_MIB = 64;
const PW = "Bench-Horse-9-battery";
const ROUNDS = roundsArg(3);

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: "pipe", encoding: "utf8" });

/** The library: the fixtures' boot image, a 2 GiB GPT disk image as OSI00002, a task sequence applying it. */
async function ensureLibrary(): Promise<void> {
  if (existsSync(join(BASE, ".done"))) return;
  await rm(BASE, { recursive: true, force: true });
  await mkdir(BASE, { recursive: true });
  await cp(join(ROOT, "fixtures/content"), LIB, { recursive: true });
  const image = join(BASE, "disk.raw");
  sh("truncate", ["-s", String(IMAGE_BYTES), image]);
  sh("sgdisk", ["-n", "1:2048:+64M", "-t", "1:ef00", "-n", "2:0:0", "-t", "2:8304", image]);
  // Random data in 1 MiB runs over the whole image: what is stored is not all holes.
  const fd = openSync(image, "r+");
  const step = IMAGE_BYTES / RANDOM_MIB;
  for (let i = 0; i < RANDOM_MIB; i++) writeSync(fd, randomBytes(MiB), 0, MiB, 128 * MiB + i * (step - 2 * MiB));
  closeSync(fd);
  sh("node", [bin(), "library", "add-os-image", LIB, "--image", image, "--arch", "x64", "--id", "OSI00002"]);
  await rm(image);
  const ts = join(BASE, "ts");
  await mkdir(ts);
  await writeFile(
    join(ts, "steps.yaml"),
    `steps:
  - { name: Choose the disk, type: select-disk }
  - { name: Apply the image, type: apply-image, package: OSI00002 }
  - { name: Restart into it, type: restart }
`,
  );
  sh("node", [bin(), "library", "add", LIB, ts, "--type", "task-sequence", "--id", "TS000002"]);
  await writeFile(join(BASE, ".done"), "");
}

async function spec(name: string, target: string): Promise<string> {
  const file = join(BASE, `${name}.yaml`);
  await writeFile(
    file,
    `name: ${name}\nbootImage: BM100001\ntaskSequence: TS000002\nmediaType: standalone\ncontentLibrary: lib\ntarget: ${target}\nsecurity: { password: { env: PW } }\n`,
  );
  return file;
}

/** The cached image (what the build reads): the content cache's file of OSI00002's sha256. */
async function cachedImage(): Promise<string> {
  const manifest = JSON.parse(await readFile(join(LIB, "packages/OSI00002/package.json"), "utf8"));
  const sha = manifest.files[0].sha256 as string;
  return join(CACHE, "sha256", sha.slice(0, 2), sha);
}

/** No output left to truncate and no dirty pages of the previous contender still being flushed. */
async function settle(): Promise<void> {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  execFileSync("sync");
}

const outputsOf = async (prefix: string) =>
  (await readdir(OUT)).filter((f) => f.startsWith(prefix) && /\.(iso|img)$/.test(f)).sort();

/**
 * The image's bytes into files of these sizes, the last padded with zeros, then `sync -d` of
 * them: `head -c` (which reads no byte past its count) for each file but the last, `cat` for the
 * rest of the image, all from one open file, no pipe.
 */
function catLine(image: string, sizes: number[]): string {
  const files = sizes.map((_, i) => join(OUT, `cat-${i + 1}`));
  const last = sizes.length - 1;
  const zeros = sizes.reduce((a, b) => a + b, 0) - statSync(image).size;
  const parts = [
    ...sizes.slice(0, last).map((size, i) => `head -c ${size} > '${files[i]}'`),
    `{ cat; head -c ${zeros} /dev/zero; } > '${files[last]}'`,
  ];
  return `{ ${parts.join("; ")}; } < '${image}' && sync -d ${files.map((f) => `'${f}'`).join(" ")}`;
}

/** `[stage] stage took N ms` and the encryption line of a build log, by phase. */
async function phases(log: string): Promise<Map<string, number>> {
  const text = await readFile(log, "utf8");
  const out = new Map<string, number>();
  for (const m of text.matchAll(/\[(\w+)\] stage took (\d+) ms/g)) out.set(m[1]!, Number(m[2]));
  const enc = /\[standalone\] encrypted .* in (\d+) ms/.exec(text);
  if (enc) out.set("encrypt (in write)", Number(enc[1]));
  return out;
}

await ensureLibrary();
const usbSpec = await spec("bench-usb", `{ type: usb, output: ${join(OUT, "bench-usb.img")} }`);
const cdSpec = await spec("bench-cd", `{ type: iso, output: ${join(OUT, "bench-cd.iso")}, capacity: cd700 }`);
const build = (file: string) =>
  runProcess("node", [bin(), "build", file, "--cache-dir", CACHE, "--force"], { env: { PW }, cwd: BASE });

// Unmeasured: fills the content cache, warms the page cache, gives the outputs' sizes.
const sizes: Record<string, number[]> = {};
for (const [name, file] of [
  ["bench-usb", usbSpec],
  ["bench-cd", cdSpec],
] as const) {
  await settle();
  await build(file);
  sizes[name] = (await outputsOf(name)).map((f) => statSync(join(OUT, f)).size);
}
if (sizes["bench-cd"]!.length !== 3) throw new Error(`the CD set has ${sizes["bench-cd"]!.length} discs, not 3`);
const image = await cachedImage();
execFileSync("sh", ["-c", `cat '${image}' > /dev/null`]);

type Name = "USB: bootmedia build" | "USB: cat + sync" | "CD set: bootmedia build" | "CD set: cat + sync";
const contenders: Record<Name, () => Promise<ProcessRun>> = {
  "USB: bootmedia build": () => build(usbSpec),
  "USB: cat + sync": () => runShell(catLine(image, sizes["bench-usb"]!)),
  "CD set: bootmedia build": () => build(cdSpec),
  "CD set: cat + sync": () => runShell(catLine(image, sizes["bench-cd"]!)),
};
const names = Object.keys(contenders) as Name[];
const runs = new Map<Name, ProcessRun[]>(names.map((n) => [n, []]));
const logs = new Map<Name, Map<string, number>[]>([
  ["USB: bootmedia build", []],
  ["CD set: bootmedia build", []],
]);
const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
console.log(
  `stand-alone media, protected, a ${IMAGE_BYTES / MiB} MiB OS image (${RANDOM_MIB} MiB random); USB ${(total(sizes["bench-usb"]!) / MiB).toFixed(0)} MiB, CD set (cd700) ${sizes["bench-cd"]!.map((s) => (s / MiB).toFixed(0)).join(" + ")} MiB`,
);
console.log(
  `whole processes, ${ROUNDS} alternating rounds, content cache warm; load average before: ${await loadAverage()} (a shared 2-core machine: noisy)`,
);
for (let r = 0; r < ROUNDS; r++) {
  const line: string[] = [];
  for (const name of rotation(names, r)) {
    await settle();
    const run = await contenders[name]();
    runs.get(name)!.push(run);
    const log =
      name === "USB: bootmedia build" ? "bench-usb.img" : name === "CD set: bootmedia build" ? "bench-cd.iso" : "";
    if (log) logs.get(name)!.push(await phases(join(OUT, `${log}.bootmedia.log`)));
    line.push(`${name} ${sec(run.ms)} ${mib(run.maxRssKiB)}`);
  }
  console.log(`round ${r + 1}: ${line.join(", ")}`);
}
await rm(OUT, { recursive: true, force: true });

const times = (n: Name) => runs.get(n)!.map((x) => x.ms);
console.log(`\nload average after: ${await loadAverage()}`);
console.log(`${"".padEnd(26)} ${"seconds (median)".padStart(16)}  ${"x cat+sync (paired)".padEnd(38)} peak RSS`);
for (const [ours, floor] of [
  ["USB: bootmedia build", "USB: cat + sync"],
  ["CD set: bootmedia build", "CD set: cat + sync"],
] as const) {
  for (const n of [ours, floor]) {
    const ratios = times(n).map((t, i) => t / times(floor)[i]!);
    console.log(
      `${n.padEnd(26)} ${sec(median(times(n))).padStart(16)}  ${(n === floor ? "1" : spread(ratios, 1)).padEnd(38)} ${mib(Math.max(...runs.get(n)!.map((x) => x.maxRssKiB)))}`,
    );
  }
}
for (const [name, list] of logs) {
  const keys = [...new Set(list.flatMap((m) => [...m.keys()]))];
  console.log(
    `${name}, its build log (median ms): ${keys.map((k) => `${k} ${median(list.map((m) => m.get(k) ?? 0))}`).join(", ")}`,
  );
}
