/** The `directory` target type: the media tree as a folder. */
import { defineTargetType } from "../../core/spec-schema.ts";

export const DIRECTORY_TARGET = defineTargetType("directory", { description: "a folder tree", writes: "folder" }, {});
