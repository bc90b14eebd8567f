/** `bootmedia cache ls | verify | prune [--older-than 30d]`: housekeeping of the content cache. */
import { resolve } from "node:path";
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { defaultCacheDir } from "../../core/cache.ts";
import { listCacheEntries, parseDuration, pruneCache, verifyCache } from "../../core/cache-admin.ts";
import { printJson } from "./render.ts";
import "../../core/codes.ts";

type Run = (fn: () => Promise<number>) => void;
export const CACHE_ACTIONS = ["ls", "verify", "prune"] as const;

interface CacheFlags {
  cacheDir?: string;
  olderThan?: string;
  json?: boolean;
}

const MiB = 1024 * 1024;
const age = (ms: number) =>
  ms >= 86_400_000
    ? `${Math.floor(ms / 86_400_000)}d`
    : ms >= 3_600_000
      ? `${Math.floor(ms / 3_600_000)}h`
      : `${Math.floor(ms / 60_000)}m`;

export function registerCacheCommands(cli: CAC, run: Run): void {
  cli
    .command(
      "cache <action>",
      "Content cache: `ls` (entries, size, age), `verify` (rehash, remove bad), `prune --older-than 30d`",
    )
    .option("--cache-dir <dir>", "Content cache (default $BOOTMEDIA_CACHE or ~/.cache/bootmedia)")
    .option("--older-than <age>", "prune: remove entries not used for this long (90m, 12h, 30d, 2w)", {
      default: "30d",
    })
    .action((action: string, flags: CacheFlags) =>
      run(async () => {
        const dir = resolve(flags.cacheDir ?? defaultCacheDir());
        const out = (json: unknown, text: string) => (flags.json ? printJson(json) : process.stdout.write(text));
        if (action === "ls") {
          const now = Date.now();
          const entries = await listCacheEntries(dir);
          const total = entries.reduce((n, e) => n + e.size, 0);
          const lines = entries
            .map((e) => `${e.sha256}  ${String(e.size).padStart(12)}  ${age(now - e.usedMs).padStart(5)}\n`)
            .join("");
          out(
            {
              ok: true,
              dir,
              entries: entries.map(({ path: _p, ...e }) => ({ ...e, ageMs: now - e.usedMs })),
              bytes: total,
            },
            `${lines}${entries.length} entries, ${(total / MiB).toFixed(1)} MiB in ${dir}\n`,
          );
          return 0;
        }
        if (action === "verify") {
          const report = await verifyCache(dir);
          const lines = report.removed
            .map((r) => `error BM2109 cache entry ${r.sha256} (${r.size} bytes) hashes to ${r.got}: removed\n`)
            .join("");
          out(
            { ok: report.removed.length === 0, dir, ...report },
            `${lines}${report.checked} entries checked, ${report.removed.length} bad removed\n`,
          );
          return report.removed.length === 0 ? 0 : 1;
        }
        if (action === "prune") {
          const report = await pruneCache(dir, parseDuration(flags.olderThan ?? "30d"));
          out(
            {
              ok: true,
              dir,
              removed: report.removed.map((e) => e.sha256),
              kept: report.kept,
              bytesFreed: report.bytesFreed,
              staleTemps: report.staleTemps,
            },
            `removed ${report.removed.length} entries (${(report.bytesFreed / MiB).toFixed(1)} MiB) not used for ${flags.olderThan}; kept ${report.kept}\n`,
          );
          return 0;
        }
        throw new BootmediaError("BM1009", `unknown cache action "${action}" (expected ${CACHE_ACTIONS.join(", ")})`);
      }),
    );
}
export { registerCacheCommands as register };
