/**
 * Reading a task-sequence package's steps file: steps.yaml at the top of the folder a user
 * adds (`library add --type task-sequence`), which the library keeps as
 * `packages/<ID>/files/steps.yaml`.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { readInputBytes, readInputFile } from "../limits.ts";
import { parseYamlData } from "../yaml-limits.ts";
import { STEP_LIMITS, validateSteps, type Step, type TaskSequenceSteps } from "./steps.ts";
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

/**
 * The steps of a library package's steps.yaml (`file`) whose manifest lists the sha256
 * `listedSha256`: read within the limits, its bytes checked against the manifest (BM2402,
 * with `hint`), then parsed.
 */
export async function loadListedSteps(
  file: string,
  listedSha256: string,
  hint = "The steps file changed after `library add`: add the package again, or restore the file.",
): Promise<Step[]> {
  const bytes = await readInputBytes(file, {
    label: "task-sequence steps",
    maxBytes: STEP_LIMITS.fileBytes,
    code: "BM2402",
  });
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== listedSha256)
    throw new BootmediaError("BM2402", `${file}: sha256 ${sha256} differs from the manifest's ${listedSha256}`, {
      where: file,
      hint,
    });
  return parseStepsText(bytes.toString("utf8"), file).steps;
}
