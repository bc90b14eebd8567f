/**
 * Cache housekeeping (`bootmedia cache ls | verify | prune`): the content-addressed cache
 * of core/cache.ts, one file per sha256 under sha256/<2 hex>/. Entries are only ever
 * removed whole; a build that needs a removed entry downloads it again. "Used" is the
 * entry's mtime, which every cache hit sets (ContentCache.has), or its atime if later.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../base/errors.ts";
import "./codes.ts";

interface CacheEntry {
  sha256: string;
  path: string;
  size: number;
  /** Last use: the later of access and modification time (ms since the epoch). */
  usedMs: number;
}

/** Temp files of interrupted downloads older than this are swept by prune. */
const STALE_TEMP_MS = 24 * 3600 * 1000;
const HASH_NAME = /^[0-9a-f]{64}$/;

/** Every entry of the cache (temp files of downloads in progress are not entries). */
export async function listCacheEntries(dir: string): Promise<CacheEntry[]> {
  const entries: CacheEntry[] = [];
  for (const { path, name } of await cacheFiles(dir)) {
    if (!HASH_NAME.test(name)) continue;
    const st = await stat(path).catch(() => undefined);
    if (st?.isFile()) entries.push({ sha256: name, path, size: st.size, usedMs: Math.max(st.atimeMs, st.mtimeMs) });
  }
  return entries.sort((a, b) => a.sha256.localeCompare(b.sha256));
}

interface VerifyReport {
  checked: number;
  /** Entries whose bytes no longer hash to their name; already removed. */
  removed: Array<{ sha256: string; size: number; got: string }>;
}

/** Rehashes every entry; an entry that does not match its name is removed (BM2109 in the report). */
export async function verifyCache(dir: string, onEntry?: (e: CacheEntry, ok: boolean) => void): Promise<VerifyReport> {
  const report: VerifyReport = { checked: 0, removed: [] };
  for (const entry of await listCacheEntries(dir)) {
    const got = await hashFile(entry.path);
    report.checked++;
    const ok = got === entry.sha256;
    if (!ok) {
      await rm(entry.path, { force: true });
      report.removed.push({ sha256: entry.sha256, size: entry.size, got });
    }
    onEntry?.(entry, ok);
  }
  return report;
}

interface PruneReport {
  removed: CacheEntry[];
  kept: number;
  bytesFreed: number;
  staleTemps: number;
}

/** Removes entries not used for `olderThanMs`, and temp files left by interrupted downloads. */
export async function pruneCache(dir: string, olderThanMs: number, now = Date.now()): Promise<PruneReport> {
  const report: PruneReport = { removed: [], kept: 0, bytesFreed: 0, staleTemps: 0 };
  for (const { path, name } of await cacheFiles(dir)) {
    if (!name.endsWith(".tmp")) continue;
    const st = await stat(path).catch(() => undefined);
    if (st && now - st.mtimeMs > STALE_TEMP_MS) {
      await rm(path, { force: true });
      report.staleTemps++;
    }
  }
  for (const entry of await listCacheEntries(dir)) {
    if (now - entry.usedMs < olderThanMs) {
      report.kept++;
      continue;
    }
    await rm(entry.path, { force: true });
    report.removed.push(entry);
    report.bytesFreed += entry.size;
  }
  return report;
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** "90m", "12h", "30d", "2w" → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([mhdw])$/.exec(text.trim());
  if (!m) {
    throw new BootmediaError("BM2108", `"${text}" is not a duration`, { where: "--older-than" });
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

async function cacheFiles(dir: string): Promise<Array<{ path: string; name: string }>> {
  const root = join(dir, "sha256");
  const shards = await readdir(root).catch(() => [] as string[]);
  const out: Array<{ path: string; name: string }> = [];
  for (const shard of shards) {
    for (const name of await readdir(join(root, shard)).catch(() => [] as string[]))
      out.push({ path: join(root, shard, name), name });
  }
  return out;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
