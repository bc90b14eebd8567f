/**
 * Writes what an engine runs into the farm's folder: the engine's files (from the one table
 * below) and farm.json (the plan, for people and for the next run's capacity plan). The folder
 * must be new or empty (BM5017); the files appear together or not at all (a temporary
 * sibling renamed into place).
 */
import { chmod, mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { PACKAGE_VERSION } from "../../base/package-root.ts";
import type { FarmEngine, FarmFile, FarmPlan } from "./farm-plan.ts";
import { renderSlurm } from "./farm-slurm.ts";
import { renderGithub } from "./farm-github.ts";
import { renderGitlab } from "./farm-gitlab.ts";
import { renderKubernetes } from "./farm-kubernetes.ts";
import "../codes.ts";

const FARM_RENDERERS = {
  slurm: renderSlurm,
  github: renderGithub,
  gitlab: renderGitlab,
  kubernetes: renderKubernetes,
} as const satisfies Record<FarmEngine, (plan: FarmPlan) => FarmFile[]>;

export const FARM_MANIFEST = "farm.json";

/** Renders the plan's files and writes them into `outDir`; returns the paths written (relative). */
export async function writeFarm(
  plan: FarmPlan,
  outDir: string,
  extra: Record<string, unknown> = {},
): Promise<string[]> {
  const existing = await readdir(outDir).catch((e: NodeJS.ErrnoException) =>
    e.code === "ENOENT" ? [] : Promise.reject(e),
  );
  if (existing.length > 0)
    throw new BootmediaError(
      "BM5017",
      `${outDir} already holds ${existing.slice(0, 3).join(", ")}${existing.length > 3 ? " …" : ""}`,
      { where: outDir },
    );
  const files = FARM_RENDERERS[plan.engine](plan);
  await mkdir(dirname(outDir), { recursive: true });
  const staging = await mkdtemp(join(dirname(outDir), `.${basename(outDir)}.farm-`));
  try {
    for (const f of files) {
      const path = join(staging, f.path);
      await mkdir("directory" in f ? path : dirname(path), { recursive: true });
      if ("directory" in f) continue;
      await writeFile(path, f.text);
      if (f.executable) await chmod(path, 0o755);
    }
    const manifest = {
      bootmedia: PACKAGE_VERSION,
      engine: plan.engine,
      plan,
      files: files.map((f) => f.path),
      ...extra,
    };
    await writeFile(join(staging, FARM_MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
    await rmdir(outDir).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : Promise.reject(e)));
    await rename(staging, outDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return [...files.map((f) => f.path), FARM_MANIFEST];
}
