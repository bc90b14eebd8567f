/**
 * The fetch stage: every content item into the cache, verified, with bounded concurrency.
 * Plugins provide Fetchers (how to open an item's origin); core owns caching and hashing.
 */
import pLimit from "p-limit";
import type { Readable } from "node:stream";
import { BootmediaError } from "../base/errors.ts";
import { diagnostic, type Diagnostic } from "../base/diagnostics.ts";
import { writeHint } from "./output-safety.ts";
import type { ContentCache } from "./cache.ts";
import type { StageProgress } from "./progress.ts";
import type { ContentItem } from "./types.ts";
import "./codes.ts";

export interface Fetcher {
  /** Opens the item's bytes as a stream. */
  open(item: ContentItem): Promise<Readable>;
}

export interface FetchStats {
  items: number;
  bytesFetched: number;
  bytesFromCache: number;
}

export async function fetchItems(
  items: ContentItem[],
  opts: {
    cache: ContentCache;
    fetcherFor: (item: ContentItem) => Fetcher | undefined;
    concurrency?: number;
    progress: StageProgress;
    onWarning?: (d: Diagnostic) => void;
  },
): Promise<FetchStats> {
  const limit = pLimit(opts.concurrency ?? 4);
  const total = items.reduce((n, i) => n + i.size, 0);
  const stats: FetchStats = { items: items.length, bytesFetched: 0, bytesFromCache: 0 };
  let done = 0;
  const unique = new Map<string, ContentItem[]>();
  for (const item of items) {
    const same = unique.get(item.sha256);
    if (same) same.push(item);
    else unique.set(item.sha256, [item]);
  }
  await Promise.all(
    [...unique.values()].map((same) =>
      limit(async () => {
        const item = same[0]!;
        const label = `${item.packageId}/${item.path}`;
        let local: string;
        const hit = await opts.cache.check(item.sha256, item.size);
        if (hit === "corrupt") {
          opts.onWarning?.(
            diagnostic(
              "BM2008",
              `cached copy of ${label} did not match its sha256 ${item.sha256}; removed it and fetched it again`,
              { severity: "warning", path: label },
            ),
          );
        }
        if (hit === "hit") {
          local = opts.cache.pathOf(item.sha256);
          stats.bytesFromCache += item.size;
          done += item.size;
        } else {
          const fetcher = opts.fetcherFor(item);
          if (!fetcher) {
            throw new BootmediaError(
              "BM2001",
              `no fetcher knows how to get ${label} from ${item.origin.kind} ${item.origin.location}`,
            );
          }
          local = await opts.cache
            .put(await fetcher.open(item), { sha256: item.sha256, size: item.size, label }, (n) => {
              stats.bytesFetched += n;
              done += n;
              opts.progress.update(done, total);
            })
            .catch((e: unknown) => {
              const code = (e as NodeJS.ErrnoException).code;
              if (e instanceof BootmediaError || !code) throw e;
              throw new BootmediaError("BM2010", `cannot store ${label} in the cache ${opts.cache.dir} (${code})`, {
                where: opts.cache.dir,
                hint: writeHint(code),
                cause: e,
              });
            });
        }
        for (const it of same) it.localPath = local;
        opts.progress.update(done, total);
      }),
    ),
  );
  return stats;
}
