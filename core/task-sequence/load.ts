/**
 * Reading a task-sequence package's steps file: steps.yaml at the top of the folder a user
 * adds (`library add --type task-sequence`), which the library keeps as
 * `packages/<ID>/files/steps.yaml`.
 */
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { readInputFile } from "../limits.ts";
import { parseYamlData } from "../yaml-limits.ts";
import { STEP_LIMITS, validateSteps, type TaskSequenceSteps } from "./steps.ts";
import "./codes.ts";

/** The file name a task-sequence package keeps its steps in. */
export const STEPS_FILE = "steps.yaml";

/** Parses steps text (YAML or JSON); `where` names the file in errors. */
export function parseStepsText(text: string, where: string): TaskSequenceSteps {
  let doc: unknown;
  try {
    doc = parseYamlData(text, where);
  } catch (e) {
    if (e instanceof BootmediaError) throw e;
    throw new BootmediaError("BM2401", `${where}: not YAML: ${(e as Error).message}`, { where, cause: e });
  }
  return validateSteps(doc, where);
}

/** The steps of the folder `folder` (before it enters a library); BM2402 when it has no readable steps.yaml. */
export async function loadSteps(folder: string): Promise<TaskSequenceSteps> {
  return loadStepsFile(join(folder, STEPS_FILE));
}

/** The steps of a library package folder (`<library>/packages/<ID>`): its files/steps.yaml. */
export async function loadPackageSteps(packageDir: string): Promise<TaskSequenceSteps> {
  return loadStepsFile(join(packageDir, "files", STEPS_FILE));
}

async function loadStepsFile(file: string): Promise<TaskSequenceSteps> {
  const text = await readInputFile(file, {
    label: "task-sequence steps",
    maxBytes: STEP_LIMITS.fileBytes,
    code: "BM2402",
  });
  return parseStepsText(text, file);
}
