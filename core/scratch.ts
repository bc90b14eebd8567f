/**
 * Scratch files in TMPDIR (the ESP image of an ISO, a drive's image, split parts) carry
 * the owner's pid in their names: `bootmedia-<kind>-<pid>-…`. A process killed with
 * SIGKILL cannot remove its own, so every build removes those of dead processes on start.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { BootmediaError } from "../base/errors.ts";
import "./codes.ts";
import { processAlive } from "../base/process-alive.ts";

const SCRATCH = /^bootmedia-(esp|usb|parts|sign)-(\d+)-/;

/** A fresh scratch file path `bootmedia-<kind>-<pid>-<random><ext>` (created by the caller). */
export function scratchPath(kind: "esp" | "parts", ext: string): string {
  return join(tmpdir(), `bootmedia-${kind}-${process.pid}-${randomBytes(4).toString("hex")}${ext}`);
}

/** A fresh scratch folder; BM4007 when TMPDIR takes no new folders. */
export async function scratchDir(kind: "usb" | "parts" | "sign"): Promise<string> {
  try {
    return await mkdtemp(join(tmpdir(), `bootmedia-${kind}-${process.pid}-`));
  } catch (e) {
    throw tmpdirError(e);
  }
}

function tmpdirError(e: unknown): BootmediaError {
  return new BootmediaError(
    "BM4007",
    `cannot create scratch files in ${tmpdir()} (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    { where: tmpdir(), cause: e },
  );
}

/** Removes scratch files and folders left by bootmedia processes that no longer run. */
export async function removeStaleScratch(dir = tmpdir()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = SCRATCH.exec(name);
    if (!m || Number(m[2]) === process.pid || processAlive(Number(m[2]))) continue;
    await rm(join(dir, name), { recursive: true, force: true }).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return removed;
}

/** BM4007 unless TMPDIR takes a new folder (probed with a folder created and removed). */
export async function assertScratchUsable(): Promise<void> {
  const dir = await scratchDir("parts");
  await rm(dir, { recursive: true, force: true });
}
