/**
 * Fetch benchmark: ≥ 1 GiB in many files over loopback, bootmedia's fetch stage (the
 * DistributionPointPlugin's download path into core's verified cache) against curl with
 * the same parallelism (`xargs -P N curl`), in one run. Prints both times, the ratio
 * (target ≤ 1.1× curl), the warm-rebuild bytes downloaded (target 0) and peak RSS.
 *
 *   npm run bench:fetch [-- --concurrency 4 --rounds 3]
 *
 * The library is generated once under $XDG_CACHE_HOME/bootmedia-bench and reused. The
 * server is nginx when installed (its own process, like a real DP), else `dp serve` in a
 * child process.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { ContentCache } from "../../../core/cache.ts";
import { fetchItems } from "../../../core/fetch.ts";
import { silentProgress } from "../../../core/progress.ts";
import type { ContentItem } from "../../../core/types.ts";
import { refreshManifest } from "../../../scripts/package-manifest.ts";
import { BIN } from "../../../testing/cli.ts";
import { readRemotePackage } from "../distribution-point-plugin.ts";
import { openDownload } from "../download.ts";
import { DpClient } from "../http-client.ts";
import { contentUrl } from "../library-ref.ts";
import { patternBytes } from "../testing/library.ts";
import { freeLoopbackPort } from "../../../base/free-port.ts";

const PACKAGE = "BENCH0001";
const FILES = [
  ...Array.from({ length: 256 }, (_, i) => ({ path: `big/f${i}.bin`, size: 4 * 1024 * 1024 })),
  ...Array.from({ length: 64 }, (_, i) => ({ path: `small/s${i}.bin`, size: 64 * 1024 })),
];
const concurrency = Number(process.argv[process.argv.indexOf("--concurrency") + 1] || 4) || 4;
const ROUNDS = Number(process.argv[process.argv.indexOf("--rounds") + 1] || 3) || 3;
const MiB = 1024 * 1024;

async function ensureLibrary(): Promise<string> {
  const root = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "bootmedia-bench", "dp-library");
  const pkg = join(root, "packages", PACKAGE);
  if (existsSync(join(pkg, "package.json"))) return root;
  console.log(`generating ${FILES.length} files under ${root} (once)…`);
  for (const f of FILES) {
    await mkdir(join(pkg, "files", f.path, ".."), { recursive: true });
    await writeFile(join(pkg, "files", f.path), patternBytes(f.size, f.path));
  }
  await writeFile(
    join(pkg, "package.json"),
    JSON.stringify({ id: PACKAGE, type: "prestart", name: "fetch benchmark", version: "1", files: [] }),
  );
  await refreshManifest(pkg);
  return root;
}

async function startServer(root: string, work: string): Promise<{ url: string; kind: string; proc: ResultPromise }> {
  const port = await freeLoopbackPort();
  const nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
  let proc: ResultPromise;
  if (nginx) {
    const conf = join(work, "nginx.conf");
    await writeFile(
      conf,
      `user ${userInfo().username}; daemon off; worker_processes 1; pid ${work}/nginx.pid; error_log ${work}/error.log warn;
events { worker_connections 256; }
http { access_log off; sendfile on; client_body_temp_path ${work}; proxy_temp_path ${work}; fastcgi_temp_path ${work}; uwsgi_temp_path ${work}; scgi_temp_path ${work};
  default_type application/octet-stream; server { listen 127.0.0.1:${port}; root ${root}; } }`,
    );
    proc = execa(nginx, ["-c", conf, "-p", work], { reject: false });
  } else {
    proc = execa("node", [BIN, "dp", "serve", root, "--port", String(port), "--quiet"], { reject: false });
  }
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(url + `packages/${PACKAGE}/package.json`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, kind: nginx ? "nginx" : "dp serve", proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not start");
}

async function timeCurl(items: ContentItem[], base: string, out: string): Promise<number> {
  await mkdir(out, { recursive: true });
  const list = items.map((it, i) => `${join(out, String(i))} ${contentUrl(base, it.packageId, it.path)}`).join("\n");
  const start = performance.now();
  await execa("xargs", ["-P", String(concurrency), "-n", "2", "curl", "-sS", "--fail", "-o"], { input: list });
  return performance.now() - start;
}

async function timeBootmedia(client: DpClient, items: ContentItem[], cacheDir: string) {
  const cache = new ContentCache(cacheDir);
  const fetcherFor = (item: ContentItem) => ({
    open: async () =>
      openDownload(client, {
        subject: { packageId: item.packageId, file: item.path },
        urlOn: (dp) => contentUrl(dp, item.packageId, item.path),
        size: item.size,
      }),
  });
  const start = performance.now();
  const stats = await fetchItems(
    items.map((i) => ({ ...i })),
    { cache, fetcherFor, concurrency, progress: silentProgress.stage("fetch") },
  );
  return { ms: performance.now() - start, stats };
}

const root = await ensureLibrary();
const work = await mkdtemp(join(tmpdir(), "bm-bench-fetch-"));
const server = await startServer(root, work);
try {
  const client = new DpClient([server.url]);
  const { pkg } = await readRemotePackage(client, PACKAGE);
  const items: ContentItem[] = pkg.files.map((f) => ({
    ...f,
    packageId: PACKAGE,
    origin: { kind: "distribution-point", location: contentUrl(server.url, PACKAGE, f.path) },
  }));
  const total = items.reduce((n, i) => n + i.size, 0);
  await execa("sh", ["-c", `cat ${join(root, "packages", PACKAGE, "files")}/*/* > /dev/null`]); // same warm page cache for both
  // Alternate the two, best of ROUNDS each: the machine is shared, single runs are noisy.
  let curlMs = Infinity;
  let cold = { ms: Infinity, stats: { items: 0, bytesFetched: 0, bytesFromCache: 0 } };
  for (let r = 0; r < ROUNDS; r++) {
    curlMs = Math.min(curlMs, await timeCurl(items, server.url, join(work, "curl")));
    await rm(join(work, "curl"), { recursive: true, force: true });
    await rm(join(work, "cache"), { recursive: true, force: true });
    const run = await timeBootmedia(client, items, join(work, "cache"));
    if (run.ms < cold.ms) cold = run;
  }
  const warm = await timeBootmedia(client, items, join(work, "cache"));
  client.close();
  const rate = (ms: number) => `${(total / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
  console.log(
    `\nfetch benchmark: ${items.length} files, ${(total / MiB).toFixed(0)} MiB over loopback from ${server.kind}, concurrency ${concurrency}, best of ${ROUNDS} alternating runs`,
  );
  console.log(`  curl (xargs -P ${concurrency} curl)      ${(curlMs / 1000).toFixed(2)} s  ${rate(curlMs)}`);
  console.log(
    `  bootmedia fetch (verified cache)   ${(cold.ms / 1000).toFixed(2)} s  ${rate(cold.ms)}   bytes fetched ${cold.stats.bytesFetched}`,
  );
  console.log(`  ratio bootmedia / curl             ${(cold.ms / curlMs).toFixed(2)}x  (target <= 1.10x)`);
  console.log(
    `  warm rebuild                       ${(warm.ms / 1000).toFixed(2)} s  bytes downloaded ${warm.stats.bytesFetched} (target 0)`,
  );
  console.log(`  peak RSS of this process           ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  server.proc.kill("SIGTERM");
  await server.proc;
  await rm(work, { recursive: true, force: true });
}
