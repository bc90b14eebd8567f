/**
 * The runner: resolve → validate → layout → fetch → write, with timings, progress and
 * the build log. `planMedia` stops after layout and neither downloads nor writes.
 */
import { MediaBuild } from "./build.ts";
import { checkCollisions } from "./layout-checks.ts";
import { fetchItems, type FetchStats } from "./fetch.ts";
import { DiagnosticsError, formatDiagnostic, hasErrors, type Diagnostic } from "../base/diagnostics.ts";
import { BootmediaError } from "../base/errors.ts";
import { OutputTransaction } from "./output.ts";
import type { BuildContext } from "./context.ts";
import type { Plugin } from "./plugin.ts";
import type { BootImagePackage, EntrySource, MediaLayout, ResolvedMedia, WriteResult } from "./types.ts";
import type { FileSource, TreeEntry } from "../base/tree.ts";
import type { Reporter } from "./hooks.ts";
import { materializeSlices } from "./slices.ts";
import { checkOutputTarget, codedWriteError } from "./output-safety.ts";
import { assertNotInterrupted } from "./interrupt.ts";
import { assertScratchUsable, removeStaleScratch } from "./scratch.ts";
import "./codes.ts";

export interface PlanResult {
  media: ResolvedMedia;
  layout: MediaLayout;
  diagnostics: Diagnostic[];
  timings: Record<string, number>;
}

export interface BuildResult extends PlanResult {
  outputs: WriteResult["outputs"];
  fetch: FetchStats;
  logFile: string;
}

/** Resolve, validate and lay out the media without writing anything. */
export async function planMedia(ctx: BuildContext, plugins: Plugin[]): Promise<PlanResult> {
  const build = new MediaBuild(ctx);
  build.use(plugins);
  const run = new StageRunner(build);
  const media = await run.resolve();
  await run.validate(media);
  const layout = await run.layout(media);
  return { media, layout, diagnostics: run.diagnostics, timings: run.timings };
}

/** The whole build; outputs appear only when everything succeeded. */
export async function buildMedia(ctx: BuildContext, plugins: Plugin[]): Promise<BuildResult> {
  const build = new MediaBuild(ctx);
  build.use(plugins);
  const run = new StageRunner(build);
  const target = ctx.target;
  // Refused here, before any work, a path gets no log either (it may be /dev/null).
  checkOutputTarget(target);
  OutputTransaction.assertWritable([...target.outputs], ctx.options.force);
  for (const name of await removeStaleScratch())
    ctx.log.write("scratch", `removed ${name}, left by a bootmedia process that no longer runs`);
  // ISO (its ESP image) and USB (a drive's image) targets need scratch space in TMPDIR.
  if (target.type !== "directory") await assertScratchUsable();
  const tx = new OutputTransaction(ctx.options.force);
  try {
    // Validation and layout need only manifests (sizes, hashes): a media that cannot be
    // built is refused before a byte is downloaded or written.
    const media = await run.resolve();
    await run.validate(media);
    const layout = await run.layout(media);
    const fetch = await run.fetch(media);
    const outputs = await run.write(media, layout, tx);
    // From here the outputs are in place: their log describes them, whatever follows.
    ctx.log.write("write", `outputs in place: ${outputs.map((o) => `${o.path} (${o.bytes} bytes)`).join(", ")}`);
    const summary = { outputs, diagnostics: run.diagnostics, timings: run.timings };
    try {
      await build.hooks.done.promise(summary);
      assertNotInterrupted();
    } catch (e) {
      ctx.log.write("failed", e instanceof BootmediaError ? `${e.code} ${e.message}` : String(e));
      ctx.log.save(target.logFiles.succeeded);
      throw e;
    }
    ctx.log.write("done", `build succeeded: ${outputs.map((o) => `${o.path} (${o.bytes} bytes)`).join(", ")}`);
    const logFile = ctx.log.save(target.logFiles.succeeded) ?? "";
    return { media, layout, ...summary, fetch, logFile };
  } catch (e) {
    if (tx.committed) throw e;
    tx.abort();
    tx.sweep(); // the writer has returned: what it wrote after a signal's abort goes too
    build.hooks.failed.call(e as Error);
    const ds = e instanceof DiagnosticsError ? e.diagnostics : [];
    for (const d of ds) ctx.log.write("validate", formatDiagnostic(d));
    ctx.log.write("failed", e instanceof BootmediaError ? `${e.code} ${e.message}` : String(e));
    try {
      ctx.log.save(target.logFiles.failed);
    } catch {
      /* the build's own error is what the user needs to see */
    }
    throw e;
  }
}

class StageRunner {
  readonly timings: Record<string, number> = {};
  readonly diagnostics: Diagnostic[] = [];
  private readonly ctx: BuildContext;

  constructor(private readonly build: MediaBuild) {
    this.ctx = build.context;
  }

  private async timed<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.timings[stage] = Math.round(performance.now() - start);
      this.ctx.log.write(stage, `stage took ${this.timings[stage]} ms`);
    }
  }

  private reporter(): Reporter {
    return { report: (d) => this.diagnostics.push(d) };
  }

  private stopOnErrors(): void {
    const strict = this.ctx.options.strict;
    const effective = this.diagnostics.map((d) =>
      strict && d.severity === "warning" ? { ...d, severity: "error" as const } : d,
    );
    if (hasErrors(effective)) throw new DiagnosticsError(effective);
  }

  resolve(): Promise<ResolvedMedia> {
    return this.timed("resolve", async () => {
      const s = this.ctx.progress.stage("resolve", "items");
      const spec = this.ctx.spec;
      const bootImageIds = Array.isArray(spec.bootImage) ? spec.bootImage : [spec.bootImage];
      const initial: ResolvedMedia = {
        spec,
        specDir: this.ctx.specDir,
        target: this.ctx.target,
        bootImageIds,
        bootImages: [],
        packages: [],
        items: [],
      };
      const media = await this.build.hooks.resolve.promise(initial);
      media.bootImages = media.packages.filter(
        (p): p is BootImagePackage =>
          bootImageIds.includes(p.id) && p.type === "boot-image" && p.bootImage !== undefined,
      );
      await this.build.hooks.afterResolve.promise(media);
      for (const p of media.packages)
        this.ctx.log.write("resolve", `package ${p.id} (${p.type}) "${p.name}" version ${p.version}`);
      for (const i of media.items)
        this.ctx.log.write("resolve", `content ${i.packageId}/${i.path} ${i.size} bytes sha256 ${i.sha256}`);
      s.update(media.items.length, media.items.length);
      s.end();
      return media;
    });
  }

  fetch(media: ResolvedMedia): Promise<FetchStats> {
    return this.timed("fetch", async () => {
      await this.ctx.cache.assertUsable();
      const s = this.ctx.progress.stage("fetch", "bytes");
      const stats = await fetchItems(media.items, {
        cache: this.ctx.cache,
        fetcherFor: (item) => this.build.hooks.fetcher.call(item),
        concurrency: this.ctx.options.concurrency,
        progress: s,
        onWarning: (d) => {
          this.diagnostics.push(d);
          this.ctx.log.write("fetch", formatDiagnostic(d));
        },
      });
      s.end();
      this.ctx.log.write(
        "fetch",
        `${stats.items} items: ${stats.bytesFetched} bytes fetched, ${stats.bytesFromCache} bytes from cache ${this.ctx.cache.dir}`,
      );
      await this.build.hooks.afterFetch.promise(media);
      return stats;
    });
  }

  validate(media: ResolvedMedia): Promise<void> {
    return this.timed("validate", async () => {
      await this.build.hooks.validate.promise(media, this.reporter());
      this.stopOnErrors();
    });
  }

  layout(media: ResolvedMedia): Promise<MediaLayout> {
    return this.timed("layout", async () => {
      const initial: MediaLayout = {
        volumes: [{ index: 1, label: media.spec.name, entries: [], boot: [] }],
        config: { schema: 1, id: media.spec.name, taskSequence: media.spec.taskSequence, images: [] },
      };
      const layout = await this.build.hooks.layout.promise(initial, media);
      for (const v of layout.volumes) for (const d of checkCollisions(v)) this.diagnostics.push(d);
      await this.build.hooks.checkLayout.promise(layout, media, this.reporter());
      this.stopOnErrors();
      for (const v of layout.volumes) {
        const bytes = v.entries.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0);
        this.ctx.log.write(
          "layout",
          `volume ${v.index} "${v.label}": ${v.entries.length} entries, ${bytes} bytes, boot ${v.boot.map((b) => `${b.firmware}/${b.arch}:${b.path}`).join(" ") || "none"}`,
        );
      }
      return layout;
    });
  }

  write(media: ResolvedMedia, layout: MediaLayout, tx: OutputTransaction): Promise<WriteResult["outputs"]> {
    return this.timed("write", async () => {
      const target = media.target;
      const writer = this.build.hooks.writer.call(target);
      if (!writer) throw new BootmediaError("BM3005", `no plugin writes targets of type "${target.type}"`);
      OutputTransaction.assertWritable(writer.outputs(layout, target), this.ctx.options.force);
      await this.build.hooks.beforeWrite.promise(layout);
      const byHash = new Map(media.items.map((i) => [i.sha256, i]));
      const cachedPath = (sha256: string) => {
        const local = byHash.get(sha256)?.localPath;
        if (!local) throw new Error(`content ${sha256} was not fetched`);
        return local;
      };
      const slices = await materializeSlices(layout, cachedPath);
      const sourceOf = (src: EntrySource): FileSource => {
        if (src.kind === "content") return { kind: "file", path: cachedPath(src.sha256) };
        if (src.kind === "slice") return { kind: "file", path: slices.pathOf(src) };
        return src;
      };
      const treeOf = (v: MediaLayout["volumes"][number]): TreeEntry[] =>
        v.entries.map((e) => (e.type === "dir" ? e : { ...e, source: sourceOf(e.source) }));
      let outputs: WriteResult["outputs"];
      try {
        outputs = await writer.write({
          layout,
          media,
          target,
          tx,
          progress: this.ctx.progress,
          treeOf,
          sourceOf,
          sourceDateEpoch: this.ctx.options.sourceDateEpoch,
          yes: this.ctx.options.yes,
        });
      } catch (e) {
        throw codedWriteError(e, target.output);
      } finally {
        await slices.cleanup();
      }
      assertNotInterrupted();
      try {
        tx.commit();
      } catch (e) {
        throw codedWriteError(e, target.output);
      }
      for (const o of outputs)
        this.ctx.log.write("write", `${o.path}: ${o.bytes} bytes${o.sha256 ? ` sha256 ${o.sha256}` : ""}`);
      await this.build.hooks.afterWrite.promise({ outputs });
      return outputs;
    });
  }
}
