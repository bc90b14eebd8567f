/**
 * The reading side of the inspect fuzzer, run in a child process the parent can kill when an
 * iteration passes its time bound. Per iteration: patch a mutated head into the seed's working
 * copy (or write a truncated copy), read it with the format's readers, classify the outcome,
 * and undo the patch. One JSON line per event on stdout.
 */
import { copyFile, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { readDisk } from "../disk/read.ts";
import { readFatFile } from "../fat/read.ts";
import { readIso, readIsoFile } from "../iso9660/read.ts";
import { makeRandom } from "../testing/random.ts";
import { mutate } from "./fuzz-mutations.ts";
import { HEAD_BYTES, type Seed } from "./fuzz-seeds.ts";

export interface IterationResult {
  i: number;
  seed: string;
  mutation: string;
  outcome: "ok" | "coded" | "crash";
  code?: string;
  error?: string;
  ms: number;
  cliPath?: string;
}

const CHUNK = 64 * 1024;
const CONFIG_FILE = "boot/grub/grub.cfg";

/** Reads an image the way `inspect` does for its kind. */
async function readImage(kind: Seed["kind"], path: string): Promise<void> {
  if (kind === "iso") {
    await readIso(path);
    await readIsoFile(path, CONFIG_FILE);
    return;
  }
  const disk = await readDisk(path);
  if (disk.fat) await readFatFile(path, CONFIG_FILE, disk.fat.offset);
}

/** The 64 KiB chunks where `head` differs from `base`. */
function changedChunks(base: Buffer, head: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at < head.length; at += CHUNK) {
    if (Buffer.compare(base.subarray(at, at + CHUNK), head.subarray(at, at + CHUNK)) !== 0) out.push(at);
  }
  return out;
}

async function patch(path: string, from: Buffer, chunks: number[]): Promise<void> {
  const fh = await open(path, "r+");
  try {
    for (const at of chunks) await fh.write(from, at, Math.min(CHUNK, from.length - at), at);
  } finally {
    await fh.close();
  }
}

/** A copy of the mutated image cut to `length` bytes. */
async function writeTruncated(seed: Seed, head: Buffer, length: number, out: string): Promise<void> {
  await copyFile(seed.path, out);
  await patch(out, head, changedChunks(seed.head, head));
  const fh = await open(out, "r+");
  await fh.truncate(length);
  await fh.close();
}

function emit(msg: unknown): void {
  process.stdout.write(JSON.stringify(msg) + "\n");
}

export async function runChild(
  work: string,
  from: number,
  to: number,
  baseSeed: number,
  cliEvery: number,
): Promise<void> {
  // As bin/bootmedia.js does: a young generation that never grows keeps the peak flat.
  setFlagsFromString("--semi-space-growth-factor=1");
  const seeds: Seed[] = [];
  for (const s of JSON.parse(await readFile(join(work, "seeds.json"), "utf8")) as Array<Omit<Seed, "head">>) {
    const working = join(work, `work-${s.name}`);
    await copyFile(s.path, working);
    const fh = await open(s.path, "r");
    const head = Buffer.alloc(Math.min(s.size, HEAD_BYTES));
    await fh.read(head, 0, head.length, 0);
    await fh.close();
    seeds.push({ ...s, head, path: s.path, working } as Seed & { working: string });
  }
  for (let i = from; i < to; i++) {
    const seed = seeds[i % seeds.length] as Seed & { working: string };
    const rnd = makeRandom(baseSeed * 1_000_003 + i);
    const head = Buffer.from(seed.head);
    const m = mutate(rnd, seed, head);
    emit({ start: i, mutation: `${seed.name}: ${m.name}` });
    const chunks = changedChunks(seed.head, head);
    let path = seed.working;
    if (m.truncateTo !== undefined) {
      path = join(work, "truncated.img");
      await writeTruncated(seed, head, m.truncateTo, path);
    } else {
      await patch(path, head, chunks);
    }
    const t0 = performance.now();
    const r: IterationResult = { i, seed: seed.name, mutation: m.name, outcome: "ok", ms: 0 };
    try {
      await readImage(seed.kind, path);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string" && /^BM\d{4}$/.test(code)) Object.assign(r, { outcome: "coded", code });
      else
        Object.assign(r, {
          outcome: "crash",
          error: (e as Error).stack?.split("\n").slice(0, 3).join(" | ") ?? String(e),
        });
    }
    r.ms = performance.now() - t0;
    const keep =
      r.outcome === "crash"
        ? join(work, "crashes", `${i}-${seed.name}`)
        : cliEvery > 0 && i % cliEvery === 0
          ? join(work, "cli", `${i}-${seed.name}`)
          : undefined;
    if (keep) {
      await copyFile(path, keep);
      if (r.outcome !== "crash") r.cliPath = keep;
    }
    if (path === seed.working) await patch(path, seed.head, chunks);
    else await rm(path, { force: true });
    emit(r);
  }
  emit({ done: true, maxRssKiB: process.resourceUsage().maxRSS });
}
