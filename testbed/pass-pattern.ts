/**
 * Judging a boot image that prints no BOOTMEDIA markers (a third-party kernel such as
 * Debian's installer): the case passes when a pattern shows up on the serial line or on
 * the VGA text screen. Patterns come per media (MediaUnderTest.pass, `--pass-serial`,
 * `--pass-screen`) or per boot image (its manifest's `bootImage.testbed.pass`, carried
 * into media.json); the media's own pattern wins.
 */
import { BootmediaError } from "../base/errors.ts";
import "./codes.ts";

/** Regular expressions (JavaScript syntax, source text); either one matching is a pass. */
export interface PassPattern {
  /** Tested against the serial console, terminal codes stripped, line by line and the unfinished line. */
  serial?: string;
  /** Tested against the VGA text screen (BIOS text mode only; see docs/testbed.md). */
  screen?: string;
}

const PASS_SOURCES = ["serial", "screen"] as const;
export type PassSource = (typeof PASS_SOURCES)[number];

/** What matched: where, the pattern, and the text it matched in (one line). */
export interface PassMatch {
  source: PassSource;
  pattern: string;
  text: string;
}

export interface CompiledPass {
  serial?: RegExp;
  screen?: RegExp;
}

/** Compiles the patterns once; a bad expression is BM5012 naming the source. */
export function compilePassPattern(pass: PassPattern | undefined): CompiledPass | undefined {
  if (!pass) return undefined;
  const out: CompiledPass = {};
  for (const source of PASS_SOURCES) {
    const text = pass[source];
    if (text === undefined) continue;
    if (text === "") throw new BootmediaError("BM5012", `the ${source} pass pattern is empty`, { where: source });
    try {
      out[source] = new RegExp(text, "m");
    } catch (error) {
      throw new BootmediaError(
        "BM5012",
        `the ${source} pass pattern ${JSON.stringify(text)} is no regular expression: ${(error as Error).message}`,
        { where: source, cause: error },
      );
    }
  }
  return out.serial || out.screen ? out : undefined;
}

/** The line of `text` a pattern matches in, trimmed, or undefined. */
export function findPass(pattern: RegExp, text: string): string | undefined {
  const m = pattern.exec(text);
  if (!m) return undefined;
  const start = text.lastIndexOf("\n", m.index) + 1;
  const endAt = text.indexOf("\n", m.index + m[0].length);
  return text
    .slice(start, endAt < 0 ? undefined : endAt)
    .trim()
    .slice(0, 240);
}
