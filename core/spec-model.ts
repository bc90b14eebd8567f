/**
 * A spec model: the composed schema for a set of plugins, with what the flag and docs
 * generators need to see of it (target types, third-party plugins' own options).
 */
import { z } from "zod";
import {
  composeSpecSchema,
  targetOutput,
  type MediaSpec,
  type SpecContribution,
  type TargetType,
} from "./spec-schema.ts";

export interface SpecModel {
  schema: z.ZodType<MediaSpec>;
  contributions: SpecContribution[];
  targets: TargetType[];
  /** The `target.type` field as flags and docs show it. */
  typeSchema: z.ZodType;
  outputSchema: z.ZodType;
  /** Own options of third-party plugins, by their index in the spec's `plugins:` list. */
  pluginOptions: Array<{ plugin: string; index: number; schema: z.ZodType }>;
}

export function createSpecModel(
  contributions: SpecContribution[],
  pluginOptions: SpecModel["pluginOptions"] = [],
): SpecModel {
  const targets = contributions.flatMap((c) => c.targets);
  return {
    schema: composeSpecSchema(contributions),
    contributions,
    targets,
    typeSchema: z.enum(targets.map((t) => t.type) as [string, ...string[]]).meta({
      description: `Media type: ${targets.map((t) => `${t.type} (${t.description})`).join(", ")}`,
      flag: "target",
      codes: ["BM3005"],
    }),
    outputSchema: targetOutput,
    pluginOptions,
  };
}
