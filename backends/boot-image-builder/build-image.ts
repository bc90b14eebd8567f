/**
 * `bootmedia boot-image build`: one boot-image package from Debian packages — the kernel
 * (linux-image-amd64 / linux-image-686 by default), busybox and OpenSSL's runtime, fetched
 * with apt-get into a cache folder and checked against apt's SHA256 — with the initramfs
 * holding the boot agent, written with its manifest into a content library. GRUB's boot
 * files go to bootmedia's boot-loader cache (plugins/boot-loader/), not into the package.
 *
 * Same inputs, same bytes: timestamps come from SOURCE_DATE_EPOCH, else from the kernel
 * package's files (Debian clamps them to its changelog date). A stamp in the work folder
 * records every input; equal stamp and an intact package mean there is nothing to do.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { sha256File } from "../../core/content/manifest.ts";
import { packagePath } from "../../base/package-root.ts";
import { defaultCacheDir } from "../../core/cache.ts";
import type { Arch } from "../../core/compat.ts";
import { findOnHost, requirementOf, type HostTool } from "../../core/doctor.ts";
import { runProgram } from "../../core/program.ts";
import { silentProgress, type Progress } from "../../core/progress.ts";
import type { ContentPackage } from "../../core/types.ts";
import { bootLoaderCacheDir, ensureBootLoader } from "../../plugins/boot-loader/boot-loader-build.ts";
import type { Signer } from "../../plugins/secure-boot/signing-key.ts";
import {
  ARCH_RECIPES,
  initrdMediaPath,
  kernelMediaPath,
  MODULE_GROUPS,
  REFERENCE_CMDLINE,
  RUNTIME_BINARIES,
  RUNTIME_PACKAGES,
  runtimeInstallPath,
} from "./config.ts";
import type { DebRef } from "../../core/apt-index.ts";
import { downloadDeb, extractDeb, findKernelRelease, lookupDebs } from "./debs.ts";
import { AGENT_INIT, AGENT_LIBS, MP_AGENT_SCRIPT, UNLOCK_SCRIPT } from "../../plugins/boot-image/agent-files.ts";
import { buildInitramfs, type ModuleGroups } from "./initramfs.ts";
import { withDirLock } from "./lock.ts";
import { parseModulesDep } from "./modules.ts";
import { writeContentPackage } from "./package.ts";
import { collectRuntime } from "./runtime.ts";
import { signKernel } from "./sign-kernel.ts";
import { hashInputs, packagesIntact } from "./stamp.ts";
import "./codes.ts";

interface BootImageBuildOptions {
  arch: Arch;
  /** The content library folder the package goes into (created if absent). */
  library: string;
  /** Package id (default: the reference id of the arch, BM100086 / BM100064). */
  id?: string;
  /** NIC and disk modules replacing the defaults; the media-finding ones are always carried. */
  drivers?: readonly string[];
  /** Debian kernel package (a metapackage or a versioned image), for the image's architecture. */
  kernelPackage?: string;
  /** Downloads, unpacked packages and stamps (kept between builds). */
  workDir: string;
  /** Seconds since 1970 for every timestamp (default: SOURCE_DATE_EPOCH, else the kernel's). */
  sourceDateEpoch?: number;
  /** Build again even when the stamp says the package is current. */
  force?: boolean;
  /** The boot-loader cache to warm (default: `boot-loader/` of the content cache). */
  bootLoaderCache?: string;
  /**
   * Own-key chain: the kernel gets this key's Authenticode signature, appended by sbsign to
   * Debian's (kept, so the image serves the signed chain too). x64 only (no ia32 chain).
   */
  signer?: Signer;
  progress?: Progress;
  log?: (line: string) => void;
}

interface BootImageBuildResult {
  manifest: ContentPackage;
  /** True when the stamp matched and nothing was rebuilt. */
  upToDate: boolean;
  packageDir: string;
  /** Subject of the certificate whose key signed the kernel (with `signer`). */
  kernelSignedBy?: string;
}

/** A source file of the builder: the .ts in a checkout, its compiled .js in an installed package. */
const sourceFile = (rel: string) =>
  existsSync(packagePath(rel)) ? packagePath(rel) : packagePath("dist", rel.replace(/\.ts$/, ".js"));

/** Every file whose change must rebuild a package. */
const INPUT_FILES = [
  ...["build-image.ts", "config.ts", "debs.ts", "initramfs.ts", "modules.ts", "package.ts", "runtime.ts"].map((f) =>
    sourceFile(`backends/boot-image-builder/${f}`),
  ),
  AGENT_INIT,
  ...AGENT_LIBS,
  MP_AGENT_SCRIPT,
  UNLOCK_SCRIPT,
  ...["cpio/newc.ts", "cpio/writer.ts", "record.ts"].map((f) => sourceFile(`formats/${f}`)),
];

/** The signing code: a change re-signs (only signed builds hash it). */
const SIGNING_FILES = [
  sourceFile("backends/boot-image-builder/sign-kernel.ts"),
  sourceFile("plugins/secure-boot/sign-pe.ts"),
];

const REQUIRED_TOOLS = ["apt-get", "apt-cache", "dpkg-deb", "depmod", "readelf"] as const satisfies readonly HostTool[];

async function checkTools(signing: boolean): Promise<void> {
  const missing = (tool: HostTool) => findOnHost(tool) === undefined;
  // Before any download: signing happens late in the build, sbsign's absence should not.
  if (signing && missing("sbsign"))
    throw new BootmediaError(
      "BM4403",
      "sbsign is not installed (Debian package sbsigntool): it signs the kernel with --signing-key",
      { where: "sbsign" },
    );
  for (const tool of REQUIRED_TOOLS) {
    if (missing(tool))
      throw new BootmediaError(
        "BM5201",
        `${tool} is not installed (Debian package ${requirementOf(tool).debianPackage})`,
        { where: tool },
      );
  }
}

/** A Debian package name for this arch: "pkg" gets the arch's qualifier, "pkg:arch" stays. */
const qualified = (name: string, debArch: string) => (name.includes(":") ? name : `${name}:${debArch}`);

interface ImageDebs {
  kernel: DebRef;
  busybox: DebRef;
  runtime: DebRef[];
}

async function lookupImageDebs(arch: Arch, kernelPackage: string, log: (l: string) => void): Promise<ImageDebs> {
  const recipe = ARCH_RECIPES[arch];
  const names = [
    qualified(kernelPackage, recipe.debArch),
    recipe.busyboxPackage,
    ...RUNTIME_PACKAGES.map((p) => `${p}:${recipe.debArch}`),
  ];
  const [meta, busybox, ...runtime] = await lookupDebs(names, log);
  // A metapackage (linux-image-amd64) names the versioned image first; an image package is taken as it is.
  const isMeta = !/^linux-image-\d+\.\d+/.test(meta!.name) && meta!.firstDepends?.startsWith("linux-image-");
  const kernel = isMeta ? (await lookupDebs([qualified(meta!.firstDepends!, recipe.debArch)], log))[0]! : meta!;
  return { kernel, busybox: busybox!, runtime };
}

/**
 * The module groups: bus, support, fs and the media-finding storage modules always; the
 * given drivers replace the default NICs (a module under kernel/drivers/net/ is a NIC, any
 * other joins the storage group, loaded before the media is searched for).
 */
export function moduleGroupsFor(drivers: readonly string[] | undefined, modulesDep: string): ModuleGroups {
  if (!drivers) return MODULE_GROUPS;
  const deps = parseModulesDep(modulesDep);
  const nic: string[] = [];
  const storage: string[] = [...MODULE_GROUPS.storage];
  for (const d of drivers.map((x) => x.trim().replaceAll("-", "_")).filter(Boolean)) {
    const m = deps.get(d);
    if (!m) throw new BootmediaError("BM2202", `the kernel has no module ${d}`, { where: d });
    if (m.path.includes("/drivers/net/")) nic.push(d);
    else if (!storage.includes(d)) storage.push(d);
  }
  return { ...MODULE_GROUPS, storage, nic };
}

async function timed<T>(progress: Progress, stage: string, step: () => Promise<T>): Promise<T> {
  const s = progress.stage(stage, "items");
  try {
    return await step();
  } finally {
    s.end();
  }
}

/** Builds one boot-image package into `opts.library` unless its stamp says it is current. */
export async function buildBootImage(opts: BootImageBuildOptions): Promise<BootImageBuildResult> {
  const log = opts.log ?? (() => {});
  if (opts.signer && opts.arch !== "x64") {
    throw new BootmediaError(
      "BM3704",
      `a signing key was given for an ${opts.arch} boot image: Secure Boot chains exist for x64 UEFI only, so its kernel is not signed`,
      { where: opts.arch },
    );
  }
  await checkTools(opts.signer !== undefined);
  await mkdir(opts.workDir, { recursive: true });
  return withDirLock(join(opts.workDir, ".lock"), () => buildLocked(opts, log), log);
}

async function buildLocked(opts: BootImageBuildOptions, log: (l: string) => void): Promise<BootImageBuildResult> {
  const { arch, library } = opts;
  const progress = opts.progress ?? silentProgress;
  const recipe = ARCH_RECIPES[arch];
  const id = opts.id ?? recipe.id;
  const kernelPackage = opts.kernelPackage ?? recipe.kernelPackage;
  const work = join(opts.workDir, arch);
  const packageDir = join(library, "packages", id);

  const debs = await timed(progress, "apt lookup", () => lookupImageDebs(arch, kernelPackage, log));
  const stamp = {
    id,
    arch,
    kernelPackage,
    drivers: opts.drivers ?? null,
    debs: Object.fromEntries([debs.kernel, debs.busybox, ...debs.runtime].map((d) => [d.name, d.version])),
    inputsSha256: await hashInputs(opts.signer ? [...INPUT_FILES, ...SIGNING_FILES] : INPUT_FILES),
    sourceDateEpoch: opts.sourceDateEpoch ?? null,
    // Only when signing, so the stamps of unsigned builds stay as they were.
    ...(opts.signer ? { signingCertificateSha256: opts.signer.certificateSha256 } : {}),
  };
  const stampFile = join(opts.workDir, "stamps", `${id}.json`);
  const stampText = `${JSON.stringify(stamp, null, 2)}\n`;
  const oldStamp = existsSync(stampFile) ? await readFile(stampFile, "utf8") : "";
  // The boot loader is warmed either way, so media built from this library need nothing more.
  await timed(progress, "boot loader", () =>
    ensureBootLoader(opts.bootLoaderCache ?? bootLoaderCacheDir(defaultCacheDir()), log),
  );
  if (!opts.force && oldStamp === stampText && (await packagesIntact(library, [id]))) {
    log(`up to date: ${id} in ${library}`);
    if (opts.signer) log(`${arch}: kernel signed by ${opts.signer.subject} (unchanged)`);
    return {
      manifest: JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as ContentPackage,
      upToDate: true,
      packageDir,
      ...signedBy(opts.signer),
    };
  }
  await rm(stampFile, { force: true });

  const debDir = join(opts.workDir, "debs");
  const kernelRoot = join(work, "kernel");
  const busyboxRoot = join(work, "busybox");
  const runtimeRoots = debs.runtime.map((d) => join(work, "runtime", d.name.split(":")[0]!));
  // Each .deb's record for the package's `build.debs` (the SBOM's source): name, version, arch, sha256.
  const debRecords: Array<{ name: string; version: string; arch: string; sha256: string }> = [];
  const fetchDeb = async (ref: DebRef, root: string) => {
    const file = await downloadDeb(ref, debDir, log);
    const [name, debArch] = ref.name.split(":");
    debRecords.push({ name: name!, version: ref.version, arch: debArch!, sha256: await sha256File(file) });
    await extractDeb(file, root);
  };
  await timed(progress, "fetch packages", async () => {
    log(
      `${arch}: ${debs.kernel.name} ${debs.kernel.version}, ${debs.busybox.name} ${debs.busybox.version}, ${debs.runtime.map((d) => `${d.name} ${d.version}`).join(", ")}`,
    );
    await fetchDeb(debs.kernel, kernelRoot);
    await fetchDeb(debs.busybox, busyboxRoot);
    for (const [i, deb] of debs.runtime.entries()) await fetchDeb(deb, runtimeRoots[i]!);
  });
  const runtime = (await collectRuntime(runtimeRoots, RUNTIME_BINARIES, recipe.multiarch)).map((f) => ({
    ...f,
    path: runtimeInstallPath(f.path),
  }));
  const release = await findKernelRelease(kernelRoot);
  const vmlinuz = join(kernelRoot, "boot", `vmlinuz-${release}`);
  if (!existsSync(vmlinuz)) throw new BootmediaError("BM2203", `${vmlinuz} is missing`, { where: vmlinuz });
  const sourceDateEpoch = opts.sourceDateEpoch ?? Math.floor((await stat(vmlinuz)).mtimeMs / 1000);
  const signer = opts.signer;
  const kernelFile = !signer
    ? vmlinuz
    : await timed(progress, "sign kernel", async () => {
        const signed = await signKernel(
          vmlinuz,
          join(work, "vmlinuz.signed"),
          signer,
          `the kernel of ${debs.kernel.name} ${debs.kernel.version}`,
        );
        log(
          `${arch}: kernel signed by ${signed.subject} (certificate sha256 ${signer.certificateSha256}); its signatures: ${signed.signers.join(", ")}`,
        );
        return signed.file;
      });
  await runProgram("depmod", ["-b", kernelRoot, release]);
  const groups = moduleGroupsFor(
    opts.drivers,
    await readFile(join(kernelRoot, "lib/modules", release, "modules.dep"), "utf8"),
  );
  const initrd = join(work, "initrd.img");
  const { modules } = await timed(progress, "initramfs", () =>
    buildInitramfs(
      { kernelRoot, release, busyboxRoot, workDir: join(work, "modules"), sourceDateEpoch, runtime, groups },
      initrd,
    ),
  );
  const manifest = await timed(progress, "package", () =>
    writeContentPackage(library, {
      id,
      name: opts.id ? `Boot image ${id} (${arch})` : recipe.name,
      version: debs.kernel.version,
      bootImage: {
        arch,
        drivers: modules,
        kernel: kernelMediaPath(arch),
        initrd: initrdMediaPath(arch),
        cmdline: REFERENCE_CMDLINE,
      },
      files: new Map([
        [kernelMediaPath(arch), kernelFile],
        [initrdMediaPath(arch), initrd],
      ]),
      initramfs: {
        packages: Object.fromEntries([debs.busybox, ...debs.runtime].map((d) => [d.name, d.version])),
        runtime: runtime.map((f) => f.path),
      },
      build: { tool: "bootmedia boot-image build", debs: debRecords },
    }),
  );
  await mkdir(join(opts.workDir, "stamps"), { recursive: true });
  await writeFile(stampFile, stampText);
  log(`${arch}: wrote ${packageDir} (${manifest.files.length} files, ${modules.length} modules)`);
  return { manifest, upToDate: false, packageDir, ...signedBy(opts.signer) };
}

const signedBy = (signer: Signer | undefined) => (signer ? { kernelSignedBy: signer.subject } : {});
