/**
 * docs/spec.md and docs/errors.md, generated from core and the built-in plugins (their spec
 * sections, target types and code tables), plus the testbed's and the boot-image recipe's
 * codes. `npm run docs` rewrites them; a test fails when the committed files drift.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderErrorsDoc, renderSpecDoc } from "../core/spec-docs.ts";
import { builtinPluginSet } from "../plugins/builtin.ts";
import "../base/codes.ts";
import "../core/codes.ts";
import "../testbed/codes.ts";
import "../testbed/mp/codes.ts";
import "../backends/mp/codes.ts";
import "../backends/boot-image-builder/codes.ts";
import "../backends/os-image-builder/codes.ts";
import "../backends/library-admin/codes.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const model = builtinPluginSet().model;

export const GENERATED_DOCS = {
  "docs/spec.md": () => renderSpecDoc(model, readFileSync(root + "fixtures/specs/sample-dir.yaml", "utf8")),
  "docs/errors.md": renderErrorsDoc,
} as const;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, render] of Object.entries(GENERATED_DOCS)) writeFileSync(root + file, render());
}
