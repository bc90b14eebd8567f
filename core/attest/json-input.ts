/**
 * Reading a JSON file nothing vouches for yet (an SBOM, a statement, an envelope): refused
 * above a size limit before it is read, checked to be UTF-8, its nesting depth counted in one
 * pass before JSON.parse (so a `[[[[…` file cannot exhaust the stack of whatever walks the
 * result), then parsed. Each refusal is coded; nothing of a refused file is used.
 */
import { createHash } from "node:crypto";
import { BootmediaError } from "../../base/errors.ts";
import { readInputBytes } from "../limits.ts";
import "./codes.ts";

export const JSON_INPUT_LIMITS = {
  /** A statement or envelope: bootmedia's are a few KiB to a few hundred (a testbed run's cases). */
  statementBytes: 4 * 1024 * 1024,
  /** An SBOM: one component per file and package; 1 000 packages of 1 000 files fit. */
  sbomBytes: 32 * 1024 * 1024,
  /** Nesting levels: bootmedia's documents use under 10. */
  depth: 64,
} as const;

/** The deepest nesting of arrays and objects in `text`, counted outside strings; stops past `limit`. */
function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Parses untrusted JSON text within the depth limit. */
export function parseJsonText(text: string, label: string, maxDepth: number = JSON_INPUT_LIMITS.depth): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth)
    throw new BootmediaError("BM6005", `${label} nests deeper than ${maxDepth} levels`, { where: label });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BootmediaError(
      "BM6004",
      `${label} is not JSON (${e instanceof Error ? e.message.slice(0, 120) : "parse error"}): cut short or not a JSON file`,
      { where: label },
    );
  }
}

/** Reads and parses `path` with the limits; `maxBytes` per kind of document. */
export async function readJsonFile(path: string, maxBytes: number, what: string): Promise<unknown> {
  return (await readJsonFileHashed(path, maxBytes, what)).value;
}

/** readJsonFile, with the sha256 of the very bytes parsed (no second read that could see other bytes). */
export async function readJsonFileHashed(
  path: string,
  maxBytes: number,
  what: string,
): Promise<{ value: unknown; sha256: string }> {
  let bytes: Buffer;
  try {
    bytes = await readInputBytes(path, { label: what, maxBytes, code: "BM6004" });
  } catch (e) {
    if (e instanceof BootmediaError && e.code === "BM1014")
      throw new BootmediaError("BM6005", e.message, { where: path });
    if (e instanceof BootmediaError && e.code === "BM1013")
      throw new BootmediaError("BM6004", e.message, { where: path });
    throw e;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new BootmediaError("BM6004", `${what} ${path} is not UTF-8 text`, { where: path });
  }
  return { value: parseJsonText(text, `${what} ${path}`), sha256: createHash("sha256").update(bytes).digest("hex") };
}
