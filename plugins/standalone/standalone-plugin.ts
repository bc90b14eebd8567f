/**
 * Stand-alone media (`mediaType: standalone`, docs/standalone-media.md): the media carry the
 * task sequence (the engine's program, task-sequence.txt), every package its steps use (the
 * OS image included) under bootmedia/content/, the deployment's variables, and an index of
 * it all (content.txt for the boot environment, index.json for bootmedia). With a media
 * password every package file is encrypted (content-crypto.ts) at write time, streamed from
 * the content cache into scratch files; files FAT32 cannot hold are stored as pieces, and media
 * larger than a CD/DVD become a set of discs (disc-set.ts).
 */
import { createHash } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { diagnostic, type Diagnostic } from "../../base/diagnostics.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import { deriveMediaSalt } from "../../core/media-salt.ts";
import { resolveMediaPassword } from "../../core/media-password.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import { scratchPath } from "../../core/scratch.ts";
import { mediaSteps } from "../../core/task-sequence/media-steps.ts";
import { imagePackages, referencedPackages } from "../../core/task-sequence/steps.ts";
import { encodeTaskSequence, flattenSteps, type OsImageWire } from "../../core/task-sequence/wire.ts";
import type { ContentPackage, LayoutEntry, LayoutFile, MediaLayout, ResolvedMedia, Volume } from "../../core/types.ts";
import { capacityBytes, loadVolumeSizer } from "../iso/index.ts";
import { DEFAULT_KDF } from "../secrets/index.ts";
import { parseSize } from "../usb/index.ts";
import { contentIv, deriveContentKeys, indexMac, sealFile } from "./content-crypto.ts";
import { fileKey, renderContentIndex, renderIndexJson, type FileSeal, type IndexModel } from "./media-index.ts";
import { spanDiscs } from "./disc-set.ts";
import {
  CONTENT_DIR,
  CONTENT_INDEX_PATH,
  DISC_PATH,
  INDEX_JSON_PATH,
  INDEX_MAC_PATH,
  placeFiles,
  renderDiscLine,
  TASK_SEQUENCE_PATH,
  type PlacedFile,
} from "./placement.ts";
import { ALLOW_UNPROTECTED } from "./spec.ts";
import "./codes.ts";

const PLUGIN_NAME = "StandalonePlugin";
/**
 * CD/DVD sets are laid out once disc 1's other files are final (the configuration is
 * rendered) and before the media manifest, so that it records the files as the set has them.
 */
const SET_STAGE = LAYOUT_STAGE.MANIFEST - 10;
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
  cachePath: (sha256: string) => string;
  /** The entries this plugin put on disc 1 (laid out again when the media span discs). */
  mine: Set<LayoutEntry>;
  /** Data discs' disc.txt, added after the media manifest (which records disc 1's), by disc. */
  deferred: Map<number, LayoutFile>;
}

export class StandalonePlugin implements Plugin {
  readonly name = PLUGIN_NAME;
  private planned?: Planned;
  /** A CD/DVD set that cannot be (BM6105, BM6106): reported by checkLayout. */
  private refusal?: Diagnostic;

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
      this.planned = planStandalone(media, {
        encrypted: protectedMedia,
        split: media.target.type === "usb",
        sourceDateEpoch: ctx.options.sourceDateEpoch,
        cachePath: (sha256) => ctx.cache.pathOf(sha256),
      });
      const [disc1] = discEntries(this.planned, 1);
      layout.volumes[0]!.entries.push(...disc1!);
      this.planned.mine = new Set(disc1);
      layout.config.standalone = {
        taskSequence: media.spec.taskSequence,
        index: INDEX_JSON_PATH,
        protected: protectedMedia,
        packages: this.planned.model.packages.map((p) => p.id),
      };
      if (media.target.type !== "iso") logPlacement(ctx.log, this.planned, protectedMedia);
      return layout;
    });

    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: SET_STAGE }, async (layout, media) => {
      const planned = this.planned;
      const capacity = capacityBytes((media.target as { capacity?: Parameters<typeof capacityBytes>[0] }).capacity);
      if (!planned || media.target.type !== "iso") return layout;
      const protectedMedia = planned.scratch !== undefined;
      if (!Number.isFinite(capacity) || layout.volumes.length !== 1) {
        logPlacement(ctx.log, planned, protectedMedia);
        return layout;
      }
      const sizeOf = await loadVolumeSizer();
      const start = performance.now();
      const first = layout.volumes[0]!;
      const spanned = spanDiscs(planned.files, {
        fixed: first.entries.filter((e) => !planned.mine.has(e)),
        boot: first.boot,
        label: (index) => `${layout.config.id}-${index}`,
        capacity,
        sizeOf: (volume, count) => sizeOf(layout.config.id, count, volume, ctx.options.sourceDateEpoch),
        entries: (discs) => discEntries(planned, discs),
        later: (volumes) => [manifestPlaceholder(volumes, media.spec.machines.length)],
      });
      if ("refusal" in spanned) {
        this.refusal = spanned.refusal;
        return layout;
      }
      logPlacement(ctx.log, planned, protectedMedia);
      if (spanned.volumes.length === 1) return layout;
      ctx.log.write(
        "standalone",
        `the stand-alone media are a set of discs: ${spanned.note} (laid out in ${Math.round(performance.now() - start)} ms)`,
      );
      for (const v of spanned.volumes.slice(1)) {
        const at = v.entries.findIndex((e) => e.path === DISC_PATH);
        planned.deferred.set(v.index, v.entries.splice(at, 1)[0] as LayoutFile);
      }
      return { ...layout, volumes: spanned.volumes };
    });

    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.SPLIT }, async (layout) => {
      for (const v of layout.volumes) {
        const label = this.planned?.deferred.get(v.index);
        if (label) v.entries.push(label);
      }
      return layout;
    });

    build.hooks.checkLayout.tapPromise(PLUGIN_NAME, async (layout, media, reporter) => {
      for (const d of [...checkCapacity(layout, media), ...(this.refusal ? [this.refusal] : [])])
        reporter.report({ ...d, source: PLUGIN_NAME });
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

/** Decides what goes on the media (the program, the index model, each package file's place); writes nothing. */
function planStandalone(media: ResolvedMedia, opts: PlanOptions): Planned {
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
    setId: setIdOf(media, opts.sourceDateEpoch, files),
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
  return {
    media,
    files,
    model,
    taskSequence,
    ...(scratch ? { scratch } : {}),
    sizes: new Map(),
    cachePath: opts.cachePath,
    mine: new Set(),
    deferred: new Map(),
  };
}

/**
 * The set id (16 hex digits, in content.txt and every disc.txt): from the spec and epoch as the
 * media's salts are, and from every package file's place and plaintext hash, so a disc of a build
 * with other content is told apart even under the same spec and SOURCE_DATE_EPOCH.
 */
function setIdOf(media: ResolvedMedia, sourceDateEpoch: number, files: readonly PlacedFile[]): string {
  const h = createHash("sha256").update(deriveMediaSalt("media-set", media.spec, sourceDateEpoch, 32));
  for (const f of files) h.update(`\0${f.packageId}\0${f.path}\0${f.size}\0${f.sha256}`);
  return h.digest("hex").slice(0, 16);
}

/**
 * The stand-alone files of discs 1..`discs` for the files' current pieces: on disc 1 the
 * program and the index (rendered now: their size depends on the pieces), on each disc its
 * disc.txt and the pieces it holds.
 */
function discEntries(p: Planned, discs: number): LayoutFile[][] {
  p.model.discs = discs;
  const out = Array.from({ length: discs }, (): LayoutFile[] => []);
  const add = (disc: number, path: string, size: number, source: LayoutFile["source"]) =>
    out[disc - 1]!.push({ type: "file", path, size, source });
  const bytes = (text: string | Uint8Array) => {
    const data = typeof text === "string" ? new TextEncoder().encode(text) : text;
    return [data.length, { kind: "bytes", data }] as const;
  };
  add(1, TASK_SEQUENCE_PATH, ...bytes(p.taskSequence));
  for (const [path, text] of [
    [CONTENT_INDEX_PATH, renderContentIndex(p.model)],
    [INDEX_JSON_PATH, renderIndexJson(p.model)],
    ...(p.scratch ? [[INDEX_MAC_PATH, `${"0".repeat(64)}\n`] as const] : []),
  ] as const) {
    const [size, source] = bytes(text);
    p.sizes.set(path, size);
    // Protected media: the index holds tags known only once encrypted, so it is written at write time.
    add(1, path, size, p.scratch ? { kind: "file", path: join(p.scratch, indexName(path)) } : source);
  }
  for (let disc = 1; disc <= discs; disc++) add(disc, DISC_PATH, ...bytes(renderDiscLine(p.model.setId, disc, discs)));
  p.files.forEach((f, i) => {
    const whole = f.pieces.length === 1;
    for (const piece of f.pieces) {
      const source: LayoutFile["source"] = p.scratch
        ? { kind: "file", path: join(p.scratch, `content-${i}`), ...(whole ? {} : { offset: piece.offset }) }
        : whole
          ? { kind: "content", sha256: f.sha256 }
          : { kind: "file", path: p.cachePath(f.sha256), offset: piece.offset };
      add(piece.disc, piece.path, piece.size, source);
    }
  });
  return out;
}

/**
 * A stand-in for bootmedia/manifest.json while discs are sized (it is written after them): as
 * large as the media manifest can be, which lists each file with its size and sha256, the boot
 * entries and the machines (plugins/media-manifest; about 170 bytes and the path a file).
 */
function manifestPlaceholder(volumes: readonly Volume[], machines: number): LayoutFile {
  const json = (path: string) => Buffer.byteLength(JSON.stringify(path));
  const files = volumes.flatMap((v) => v.entries).filter((e): e is LayoutFile => e.type === "file");
  const size =
    1024 +
    files.reduce((n, f) => n + 200 + json(f.path), 0) +
    volumes.flatMap((v) => v.boot).reduce((n, b) => n + 200 + json(b.path), 0) +
    120 * machines;
  return { type: "file", path: "bootmedia/manifest.json", size, source: { kind: "bytes", data: new Uint8Array() } };
}

function logPlacement(log: PluginBuild["context"]["log"], planned: Planned, protectedMedia: boolean): void {
  const { files, model } = planned;
  const pieces = files.reduce((n, f) => n + f.pieces.length, 0);
  log.write(
    "standalone",
    `task sequence ${model.taskSequence.id}: ${model.taskSequence.steps} steps; ${model.packages.length} packages, ${files.length} files, ${files.reduce((n, f) => n + f.size, 0)} bytes in ${pieces} piece(s) on ${model.discs} disc(s); ${protectedMedia ? "encrypted (AES-256-CTR + HMAC-SHA256, key from the media password by scrypt)" : "NOT encrypted (--allow-unprotected)"}`,
  );
  for (const f of files)
    if (f.pieces.length > 1)
      log.write(
        "standalone",
        `${f.packageId}/${f.path}: ${f.size} bytes as ${f.pieces.length} pieces${model.discs > 1 ? ` on discs ${[...new Set(f.pieces.map((x) => x.disc))].join(", ")}` : ""}`,
      );
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

/** Content bigger than the USB image: refused before anything is fetched (CD/DVD sets: spanDiscs' refusals). */
function checkCapacity(layout: MediaLayout, media: ResolvedMedia): Diagnostic[] {
  const target = media.target as { type: string; size?: string };
  if (target.type !== "usb" || !target.size) return [];
  const all = layout.volumes.flatMap((v) => v.entries).filter((e): e is LayoutFile => e.type === "file");
  const isContent = (e: LayoutFile) => e.path.startsWith(`${CONTENT_DIR}/`);
  const content = all.filter(isContent).reduce((n, e) => n + e.size, 0);
  const rest = all.filter((e) => !isContent(e)).reduce((n, e) => n + e.size, 0);
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const size = parseSize(target.size);
  if (content + rest <= size) return [];
  const largest = standalonePackages(media)
    .map((p) => ({ id: p.id, bytes: p.files.reduce((n, f) => n + f.size, 0) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map((p) => `${p.id} ${mib(p.bytes)}`)
    .join(", ");
  return [
    diagnostic(
      "BM6104",
      `the stand-alone content (${mib(content)}; largest: ${largest}) and the boot files (${mib(rest)}) need more than the USB image's ${mib(size)}`,
      { path: "target.size" },
    ),
  ];
}
