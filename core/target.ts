/**
 * The build's target, resolved once before any work (like mkosi's frozen config with its
 * resolved values): the absolute output path and the facts about it every part of the build
 * reads — whether it is a drive, the paths the build replaces there, where its log goes.
 */
import { statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { FAILED_LOG_SUFFIX, LOG_SUFFIX } from "./log.ts";
import type { Target, TargetDeclaration, TargetWrites } from "./spec-schema.ts";

export interface ResolvedTarget extends Target {
  /** Absolute output path. */
  readonly output: string;
  /** What the target type writes there (its declaration). */
  readonly writes: TargetWrites;
  /** The target type also writes whole drives (its declaration). */
  readonly drives: boolean;
  /** The output is a drive: an existing block device, and the target type writes drives. */
  readonly isDrive: boolean;
  /** The paths the build replaces at the output, checked against --force before any work: none for a drive (it is confirmed instead). */
  readonly outputs: readonly string[];
  /** The build log's files: beside the output; in the current folder, named after it, for a drive or a path in /dev. */
  readonly logFiles: { readonly succeeded: string; readonly failed: string };
}

/** Names a target type's options may not take: the target's own fields and the facts resolved onto it. */
export const RESERVED_TARGET_FIELDS = ["type", "output", "writes", "drives", "isDrive", "outputs", "logFiles"] as const;

/** Resolves the spec's target against the spec's folder and its type's declaration; the value is frozen. */
export function resolveTarget(
  target: Target,
  specDir: string,
  declaration: Pick<TargetDeclaration, "writes" | "drives">,
): ResolvedTarget {
  const output = isAbsolute(target.output) ? target.output : resolve(specDir, target.output);
  const drives = declaration.drives === true;
  const isDrive = drives && isDrivePath(output);
  const logBase = isDrive || dirname(output) === "/dev" ? join(process.cwd(), basename(output)) : output;
  return Object.freeze({
    ...target,
    output,
    writes: declaration.writes,
    drives,
    isDrive,
    outputs: Object.freeze(isDrive ? [] : [output]),
    logFiles: Object.freeze({ succeeded: logBase + LOG_SUFFIX, failed: logBase + FAILED_LOG_SUFFIX }),
  });
}

/** A drive: an existing block device (links such as /dev/disk/by-id/… followed). */
function isDrivePath(path: string): boolean {
  try {
    return statSync(path).isBlockDevice();
  } catch {
    return false;
  }
}
