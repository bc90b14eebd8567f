/**
 * Codes of the pipeline itself: spec (BM1xxx), content and cache (BM2xxx), layout (BM3xxx), writing (BM4xxx);
 * and the doctor's package installer (BM501x, set-up for the testbed and fixtures; core/doctor-install.ts).
 */
import { defineCodes } from "../base/errors.ts";
// Code above base raises base's codes too (BM2009 for a library file, BM4001): whoever loads
// core's table has base's, or their hints print empty.
import "../base/codes.ts";

/** @lazy cli/main.ts's signal handler imports it dynamically (in a Promise.all knip does not follow). */
export const CORE_CODES = defineCodes("core", {
  BM1001: { title: "spec file unreadable", hint: "Check the path and that the file is readable." },
  BM1002: { title: "spec syntax error", hint: "Fix the YAML/JSON syntax at the location shown." },
  BM1003: {
    title: "spec value invalid",
    hint: "Change the value at the location shown; `docs/spec.md` lists what each option accepts.",
  },
  BM1004: {
    title: "unknown spec option",
    hint: "Remove the option or fix its spelling; `docs/spec.md` lists every option.",
  },
  BM1005: { title: "required spec option missing", hint: "Add the option; `docs/spec.md` shows an example." },
  BM1006: {
    title: "secret given inline",
    hint: "Give secrets by reference: `{ env: NAME }` or `{ file: path }`, so they never sit in a spec file or a shell history.",
  },
  BM1007: {
    title: "secret reference unresolved",
    hint: "Set the environment variable or create the file the reference names.",
  },
  BM1008: {
    title: "plugin could not be loaded",
    hint: "Check the plugin path (relative to the spec) or install the package; a plugin module exports a class with `name` and `apply(build)`.",
  },
  BM1010: {
    title: "output exists",
    hint: "Pass --force to replace it (the old output stays intact until the new one is complete), or choose another output path.",
  },
  BM1011: {
    title: "wizard needs answers",
    hint: "There is no terminal to ask on: give the answers as flags (see `bootmedia init --help`) or take the defaults with --yes.",
  },
  BM2001: {
    title: "content library not found",
    hint: "Check `contentLibrary` in the spec; it must be a folder laid out as docs/content-library.md describes.",
  },
  BM2002: {
    title: "package not found",
    hint: "Check the package id; `bootmedia plan` lists the packages the library holds.",
  },
  BM2003: {
    title: "package manifest invalid",
    hint: "Regenerate the package manifest; docs/content-library.md describes its format.",
  },
  BM2004: {
    title: "content hash mismatch",
    hint: "The library file differs from its manifest: redistribute the package to the library, then build again.",
  },
  BM2005: {
    title: "content file missing",
    hint: "The manifest names a file the library does not hold: redistribute the package.",
  },
  BM2006: {
    title: "unsafe manifest path",
    hint: "A manifest path must be relative and stay inside the package (no `..`, no absolute paths).",
  },
  BM2108: { title: "invalid duration", hint: "Give a duration as a number and a unit: 90m, 12h, 30d or 2w." },
  BM2109: {
    title: "cache entry corrupt",
    hint: "The entry no longer hashes to its name; `bootmedia cache verify` removed it, and the next build downloads it again.",
  },
  BM3001: {
    title: "media path collision",
    hint: "Two sources want the same path on the media; rename one or drop a package.",
  },
  BM3005: {
    title: "no writer for target",
    hint: "Use a target type that a plugin in use writes (the message lists them: directory, iso and usb are built in), or add the plugin that writes it to `plugins:`.",
  },
  BM3006: { title: "plugin diagnostic", hint: "See the plugin's documentation." },
  BM3008: {
    title: "option not supported yet",
    hint: "This version does not implement the option; remove it from the spec (see the issue tracker for when it lands).",
  },
  BM4003: {
    title: "build interrupted",
    hint: "The build was cancelled; the previous output is untouched. Run it again when ready.",
  },
  BM4004: {
    title: "hook failed",
    hint: "A plugin failed; the message names the hook and the plugin. Fix or remove the plugin.",
  },
  // Safety rules around inputs and outputs (docs/safety.md).
  BM1016: {
    title: "output is a special file",
    hint: "Outputs are regular files or folders: choose a path in a folder you own. To write a USB drive, use `--target usb --out /dev/sdX` (its drive checks apply).",
  },
  BM1012: {
    title: "output is the wrong kind",
    hint: "The output path holds a folder where this target writes a file (or a file where it writes a folder); choose another path, or remove what is there yourself.",
  },
  BM1013: {
    title: "input is not a regular file",
    hint: "Give a regular file (not a FIFO, device, socket or folder) for the spec, password or secret file.",
  },
  BM1014: {
    title: "input over a limit",
    hint: "The spec (or manifest) is larger, or nests lists and mappings deeper, than bootmedia accepts; split it, remove entries or flatten it. The message names the limit.",
  },
  BM1015: {
    title: "invalid option value",
    hint: "Give a value in the range the option's help (`bootmedia build --help`) shows.",
  },
  BM2008: {
    title: "cache entry corrupted",
    hint: "A cached file no longer matched its hash; bootmedia removed it and fetched it again. If this recurs, check the disk holding the cache (`bootmedia cache verify`).",
  },
  BM2010: {
    title: "cache folder unusable",
    hint: "Point --cache-dir or BOOTMEDIA_CACHE at a folder you can write (it is created if missing), not at a file.",
  },
  BM4005: {
    title: "plugin hook timed out",
    hint: "A plugin's hook did not finish within the time limit; the message names the plugin and the hook. Fix or remove the plugin, or raise the limit (--hook-timeout SECONDS or BOOTMEDIA_HOOK_TIMEOUT).",
  },
  BM4006: {
    title: "plugin setup failed",
    hint: "The plugin threw while being set up (its apply method); the message names it. Fix or remove the plugin.",
  },
  BM4007: {
    title: "temporary folder unusable",
    hint: "Set TMPDIR to an existing folder you can write (or unset it to use /tmp).",
  },
  BM5010: {
    title: "Debian packages missing and not installable here",
    hint: "Run the command the message gives as root (it installs exactly the missing packages), then run bootmedia again.",
  },
  BM5011: {
    title: "Debian packages still missing after apt-get install",
    hint: "apt-get could not install them (its output is above); fix the package sources, then run `bootmedia doctor --install` again.",
  },
});
