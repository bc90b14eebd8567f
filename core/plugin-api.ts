/**
 * What plugin authors import (`import { definePlugin } from "bootmedia/plugin"`): the plugin
 * door, the hook map's types, the values that flow through the pipeline, and helpers.
 */
export {
  definePlugin,
  simplePlugin,
  resolveLazy,
  type Plugin,
  type PluginBuild,
  type PluginDefinition,
  type Inspector,
  type InspectReport,
  type ImageFormat,
  type ImageFlag,
  type ImageResult,
  type Lazy,
  type TapOnly,
} from "./plugin.ts";
export {
  defineSection,
  defineTargetType,
  secretRef,
  type MediaSpec,
  type SecretRef,
  type SpecSection,
  type Target,
  type TargetDeclaration,
  type TargetType,
  type TargetWrites,
} from "./spec-schema.ts";
export type { ResolvedTarget } from "./target.ts";
export { LAYOUT_STAGE, type BuildHooks, type BuildSummary, type Reporter } from "./hooks.ts";
export type { BuildContext, BuildOptions } from "./context.ts";
export type { MediaWriter, WriteContext } from "./write.ts";
export { plannedTree } from "./write.ts";
export type {
  ContentItem,
  ContentPackage,
  EntrySource,
  LayoutEntry,
  LayoutFile,
  MediaLayout,
  ResolvedMedia,
  Volume,
  WriteResult,
} from "./types.ts";
export { BootmediaError, type CodeInfo, type CodeTable, type ErrorCode } from "../base/errors.ts";
export { diagnostic, DiagnosticsError, type Diagnostic, type Severity } from "../base/diagnostics.ts";
export type { FileSource, TreeEntry } from "../base/tree.ts";
export { z } from "zod";
