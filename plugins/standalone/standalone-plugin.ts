/**
 * Stand-alone media (`mediaType: standalone`, docs/standalone-media.md): the media carry the
 * task sequence (the engine's program, task-sequence.txt), every package its steps use (the
 * OS image included) under bootmedia/content/, the deployment's variables, and an index of
 * it all (content.txt for the boot environment, index.json for bootmedia). With a media
 * password every package file is encrypted (content-crypto.ts) at write time, streamed from
 * the content cache into scratch files; files FAT32 cannot hold are stored as pieces.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { diagnostic } from "../../base/diagnostics.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import { deriveMediaSalt } from "../../core/media-salt.ts";
import { resolveMediaPassword } from "../../core/media-password.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import { scratchPath } from "../../core/scratch.ts";
import { mediaSteps } from "../../core/task-sequence/media-steps.ts";
import { imagePackages, referencedPackages } from "../../core/task-sequence/steps.ts";
import { encodeTaskSequence, flattenSteps, type OsImageWire } from "../../core/task-sequence/wire.ts";
import type { ContentPackage, LayoutFile, MediaLayout, ResolvedMedia } from "../../core/types.ts";
import { capacityBytes } from "../iso/index.ts";
import { DEFAULT_KDF } from "../secrets/index.ts";
import { parseSize } from "../usb/index.ts";
import { contentIv, deriveContentKeys, indexMac, sealFile } from "./content-crypto.ts";
import { fileKey, renderContentIndex, renderIndexJson, type FileSeal, type IndexModel } from "./media-index.ts";
import {
  CONTENT_DIR,
  CONTENT_INDEX_PATH,
  INDEX_JSON_PATH,
  INDEX_MAC_PATH,
  placeFiles,
  TASK_SEQUENCE_PATH,
  type PlacedFile,
} from "./placement.ts";
import { ALLOW_UNPROTECTED } from "./spec.ts";
import "./codes.ts";

const PLUGIN_NAME = "StandalonePlugin";
/** Where the boot environment finds a package of stand-alone media: content.txt says which pieces. */
const MEDIA_LOCATION = (id: string) => `media:${CONTENT_DIR}/${id}/`;

/** What layout decided and write needs. */
interface Planned {
  media: ResolvedMedia;
  files: PlacedFile[];
  model: IndexModel;
  taskSequence: Uint8Array;
  /** Protected media: the scratch folder where encrypted files and the index are written. */
  scratch?: string;
  /** Sizes the layout gave the index files (the final render must match). */
  sizes: Map<string, number>;
}

export class StandalonePlugin implements Plugin {
  readonly name = PLUGIN_NAME;
  private planned?: Planned;

  apply(build: PluginBuild): void {
    const ctx = build.context;
    build.hooks.validate.tapPromise(PLUGIN_NAME, async (media, reporter) => {
      const report = (code: string, message: string, path: string, severity: "error" | "warning" = "error") =>
        reporter.report(diagnostic(code as "BM6101", message, { path, severity, source: PLUGIN_NAME }));
      const steps = mediaSteps(media);
      if (!steps) {
        report(
          "BM6110",
          "stand-alone media read the task sequence's steps from a content library folder; contentLibrary is a distribution point",
          "contentLibrary",
        );
        return;
      }
      for (const id of imagePackages(steps)) {
        const pkg = media.packages.find((p) => p.id === id);
        if (pkg && (pkg.type !== "os-image" || !pkg.osImage))
          report(
            "BM6108",
            `apply-image package ${id} is a ${pkg.type} package, not an os-image package`,
            "taskSequence",
          );
      }
      if (!(await resolveMediaPassword(ctx))) {
        if (!ALLOW_UNPROTECTED.of(media.spec))
          report(
            "BM6102",
            "stand-alone media carry the OS image and packages: without a media password they would be in clear",
            "security.password",
          );
        else {
          const message = "stand-alone media without a password: the OS image and packages are in clear on the media";
          report("BM6103", message, "security.allowUnprotected", "warning");
          ctx.log.write("standalone", `warning BM6103 ${message} (--allow-unprotected)`);
        }
      }
    });

    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.CONTENT }, async (layout, media) => {
      const protectedMedia = (await resolveMediaPassword(ctx)) !== undefined;
      this.planned = planStandalone(layout, media, {
        encrypted: protectedMedia,
        split: media.target.type === "usb",
        sourceDateEpoch: ctx.options.sourceDateEpoch,
        cachePath: (sha256) => ctx.cache.pathOf(sha256),
      });
      const { files, model } = this.planned;
      const pieces = files.reduce((n, f) => n + f.pieces.length, 0);
      ctx.log.write(
        "standalone",
        `task sequence ${model.taskSequence.id}: ${model.taskSequence.steps} steps; ${model.packages.length} packages, ${files.length} files, ${files.reduce((n, f) => n + f.size, 0)} bytes in ${pieces} piece(s) on ${model.discs} disc(s); ${protectedMedia ? "encrypted (AES-256-CTR + HMAC-SHA256, key from the media password by scrypt)" : "NOT encrypted (--allow-unprotected)"}`,
      );
      for (const f of files)
        if (f.pieces.length > 1)
          ctx.log.write("standalone", `${f.packageId}/${f.path}: ${f.size} bytes as ${f.pieces.length} pieces`);
      return layout;
    });

    build.hooks.checkLayout.tapPromise(PLUGIN_NAME, async (layout, media, reporter) => {
      for (const d of checkCapacity(layout, media)) reporter.report({ ...d, source: PLUGIN_NAME });
    });

    build.hooks.beforeWrite.tapPromise(PLUGIN_NAME, async () => {
      const planned = this.planned;
      if (!planned?.scratch) return;
      const password = (await resolveMediaPassword(ctx))!;
      const start = performance.now();
      const progress = ctx.progress.stage("encrypt", "bytes");
      const total = planned.files.reduce((n, f) => n + f.size, 0);
      let done = 0;
      await sealContent(
        planned,
        password,
        (sha256) => {
          const local = planned.media.items.find((i) => i.sha256 === sha256)?.localPath;
          if (!local) throw new Error(`content ${sha256} was not fetched`);
          return local;
        },
        (n) => progress.update((done += n), total),
      );
      progress.end();
      ctx.log.write(
        "standalone",
        `encrypted ${planned.files.length} files (${planned.files.reduce((n, f) => n + f.size, 0)} bytes) in ${Math.round(performance.now() - start)} ms`,
      );
    });

    const cleanup = async () => {
      if (this.planned?.scratch) await rm(this.planned.scratch, { recursive: true, force: true });
    };
    build.hooks.done.tapPromise(PLUGIN_NAME, cleanup);
    build.hooks.failed.tap(PLUGIN_NAME, () => void cleanup());
  }
}

interface PlanOptions {
  encrypted: boolean;
  split: boolean;
  sourceDateEpoch: number;
  cachePath: (sha256: string) => string;
}

/** Adds the task sequence, the index and every package file to volume 1; writes nothing. */
function planStandalone(layout: MediaLayout, media: ResolvedMedia, opts: PlanOptions): Planned {
  const steps = mediaSteps(media) ?? [];
  const tsId = media.spec.taskSequence;
  const packages = standalonePackages(media);
  const files = placeFiles(packages, { encrypted: opts.encrypted, split: opts.split });
  const taskSequence = new TextEncoder().encode(
    encodeTaskSequence({
      steps,
      variables: deploymentVariables(media),
      packages: packages.map((p) => ({
        id: p.id,
        locations: [MEDIA_LOCATION(p.id)],
        files: p.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })),
      })),
      images: imagePackages(steps).flatMap((id) => {
        const os = packages.find((p) => p.id === id)?.osImage;
        if (!os) return [];
        const { image, compression, size, sha256, partitionTable, rootPartition, firmware } = os;
        return [{ id, image, compression, size, sha256, partitionTable, rootPartition, firmware } as OsImageWire];
      }),
    }),
  );
  const model: IndexModel = {
    taskSequence: { id: tsId, steps: flattenSteps(steps).length },
    setId: deriveMediaSalt("media-set", media.spec, opts.sourceDateEpoch, 8).toString("hex"),
    discs: 1,
    ...(opts.encrypted
      ? {
          protection: {
            kdf: DEFAULT_KDF,
            salt: deriveMediaSalt("content-kdf", media.spec, opts.sourceDateEpoch, 32).toString("hex"),
          },
        }
      : {}),
    packages,
    files,
    seals: new Map(),
  };
  const scratch = opts.encrypted ? scratchPath("parts", "") : undefined;
  const entries = layout.volumes[0]!.entries;
  const add = (path: string, size: number, source: LayoutFile["source"]) =>
    entries.push({ type: "file", path, size, source });
  const sizes = new Map<string, number>();
  add(TASK_SEQUENCE_PATH, taskSequence.length, { kind: "bytes", data: taskSequence });
  for (const [path, text] of [
    [CONTENT_INDEX_PATH, renderContentIndex(model)],
    [INDEX_JSON_PATH, renderIndexJson(model)],
    ...(scratch ? [[INDEX_MAC_PATH, `${"0".repeat(64)}\n`] as const] : []),
  ] as const) {
    const data = new TextEncoder().encode(text);
    sizes.set(path, data.length);
    // Protected media: the index holds tags known only once encrypted, so it is written at write time.
    add(path, data.length, scratch ? { kind: "file", path: join(scratch, indexName(path)) } : { kind: "bytes", data });
  }
  files.forEach((f, i) => {
    const whole = f.pieces.length === 1;
    for (const p of f.pieces) {
      const source: LayoutFile["source"] = scratch
        ? { kind: "file", path: join(scratch, `content-${i}`), ...(whole ? {} : { offset: p.offset }) }
        : whole
          ? { kind: "content", sha256: f.sha256 }
          : { kind: "file", path: opts.cachePath(f.sha256), offset: p.offset };
      add(p.path, p.size, source);
    }
  });
  layout.config.standalone = {
    taskSequence: tsId,
    index: INDEX_JSON_PATH,
    protected: opts.encrypted,
    packages: packages.map((p) => p.id),
  };
  return { media, files, model, taskSequence, ...(scratch ? { scratch } : {}), sizes };
}

const indexName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** The packages the steps use, in the order the content library resolved them. */
function standalonePackages(media: ResolvedMedia): ContentPackage[] {
  const used = new Set(referencedPackages(mediaSteps(media) ?? []));
  return media.packages.filter((p) => used.has(p.id));
}

/**
 * The deployment's variables: on stand-alone media there is no site, so they are the media's
 * plain variables (customization.variables; the secret ones stay sealed in secrets.enc).
 */
function deploymentVariables(media: ResolvedMedia): Record<string, string> {
  const vars = (media.spec.customization as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
  return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** Encrypts every file into the scratch folder, then writes the index with the tags and its MAC. */
async function sealContent(
  planned: Planned,
  password: string,
  localPath: (sha256: string) => string,
  onBytes: (n: number) => void,
): Promise<void> {
  const scratch = planned.scratch!;
  const { model } = planned;
  const keys = deriveContentKeys(password, Buffer.from(model.protection!.salt, "hex"), model.protection!.kdf);
  await mkdir(scratch, { recursive: true, mode: 0o700 });
  const seals = new Map<string, FileSeal>();
  for (const [i, f] of planned.files.entries()) {
    const iv = contentIv(keys.macKey, f.packageId, f.path, f.sha256);
    const sealed = await sealFile(localPath(f.sha256), join(scratch, `content-${i}`), keys, iv, onBytes);
    if (sealed.bytes !== f.size)
      throw new BootmediaError("BM4201", `${f.packageId}/${f.path}: ${sealed.bytes} bytes read, ${f.size} expected`);
    seals.set(fileKey(f), { iv: iv.toString("hex"), tag: sealed.tag, storedSha256: sealed.sha256 });
  }
  const final: IndexModel = { ...model, seals };
  const contentIndex = new TextEncoder().encode(renderContentIndex(final));
  const texts: Array<[string, Uint8Array]> = [
    [CONTENT_INDEX_PATH, contentIndex],
    [INDEX_JSON_PATH, new TextEncoder().encode(renderIndexJson(final))],
    [INDEX_MAC_PATH, new TextEncoder().encode(`${indexMac(keys.macKey, [planned.taskSequence, contentIndex])}\n`)],
  ];
  for (const [path, data] of texts) {
    if (data.length !== planned.sizes.get(path))
      throw new Error(`${path}: ${data.length} bytes rendered, ${planned.sizes.get(path)} laid out`);
    await writeFile(join(scratch, indexName(path)), data, { mode: 0o600 });
  }
}

/** Content bigger than the USB image, or a disc 1 too small: refused before anything is fetched. */
function checkCapacity(layout: MediaLayout, media: ResolvedMedia) {
  const out = [];
  const all = layout.volumes.flatMap((v) => v.entries).filter((e): e is LayoutFile => e.type === "file");
  const isContent = (e: LayoutFile) => e.path.startsWith(`${CONTENT_DIR}/`);
  const content = all.filter(isContent).reduce((n, e) => n + e.size, 0);
  const rest = all.filter((e) => !isContent(e)).reduce((n, e) => n + e.size, 0);
  const target = media.target as { type: string; size?: string; capacity?: string | number };
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (target.type === "usb" && target.size) {
    const size = parseSize(target.size);
    if (content + rest > size) {
      const largest = standalonePackages(media)
        .map((p) => ({ id: p.id, bytes: p.files.reduce((n, f) => n + f.size, 0) }))
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 3)
        .map((p) => `${p.id} ${mib(p.bytes)}`)
        .join(", ");
      out.push(
        diagnostic(
          "BM6104",
          `the stand-alone content (${mib(content)}; largest: ${largest}) and the boot files (${mib(rest)}) need more than the USB image's ${mib(size)}`,
          { path: "target.size" },
        ),
      );
    }
  }
  if (target.type === "iso") {
    const capacity = capacityBytes(target.capacity as Parameters<typeof capacityBytes>[0]);
    if (rest > capacity)
      out.push(
        diagnostic(
          "BM6105",
          `disc 1 needs ${mib(rest)} for the boot files, configuration and task sequence; the capacity is ${mib(capacity)}`,
          { path: "target.capacity" },
        ),
      );
    else if (layout.volumes.length > 1 || content + rest > capacity)
      out.push(
        diagnostic(
          "BM6106",
          `the stand-alone media need ${mib(content + rest)}, more than one disc of ${mib(capacity)}`,
          { path: "target.capacity" },
        ),
      );
  }
  return out;
}
