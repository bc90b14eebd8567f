/**
 * bootmedia's programmatic API (`import { build } from "bootmedia"`): what the CLI does,
 * for programs — build, plan, inspect, the testbed and the image writers.
 */
import { BootmediaError } from "../base/errors.ts";
import { resolveLazy, type ImageResult, type InspectReport } from "../core/plugin.ts";
import { BUILTIN_PLUGINS, builtinInspectors } from "../plugins/builtin.ts";
import "../core/codes.ts";

export { build, plan, prepareBuild, type BuildInput } from "./build.ts";
export { loadSpec, builtinPluginSet, type SpecInput, type SpecWithPlugins } from "./spec.ts";
export { runTestbed, mergeReports, type TestbedOptions } from "../testbed/testbed.ts";
export type { TestbedReport } from "../testbed/report-model.ts";
export type { BuildResult, PlanResult } from "../core/run.ts";
export type { MediaSpec, Target } from "../core/spec-schema.ts";
export type { Diagnostic } from "../base/diagnostics.ts";
export { DiagnosticsError } from "../base/diagnostics.ts";
export { BootmediaError, codeInfo, declaredCodes } from "../base/errors.ts";
export { BUILTIN_PLUGINS } from "../plugins/builtin.ts";
export { PACKAGE_VERSION as VERSION } from "../base/package-root.ts";
export type { ImageResult, InspectReport } from "../core/plugin.ts";

/** Reads media back (ISO, USB image, folder): volumes, boot records, files, configuration. */
export async function inspect(path: string): Promise<InspectReport> {
  for (const inspector of await builtinInspectors()) if (await inspector.detect(path)) return inspector.inspect(path);
  throw new BootmediaError("BM1001", `${path}: not media bootmedia can read (a media folder, .iso or USB image)`, {
    where: path,
  });
}

/** One writer on a folder, as `bootmedia image <format>`: `iso` or `fat` (and plugins' formats). */
export async function writeImage(
  format: string,
  dir: string,
  options: Record<string, unknown> & { output: string; force?: boolean },
): Promise<ImageResult> {
  for (const d of BUILTIN_PLUGINS) {
    const f = d.imageFormats?.[format];
    if (f) return (await resolveLazy(f)).write(dir, options);
  }
  throw new BootmediaError("BM1009", `unknown image format "${format}"`);
}
