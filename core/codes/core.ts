/** Codes of the pipeline, spec, content library and CLI. */
export const CORE_CODES = {
  // BM1xxx — the media spec and the command line
  BM1001: { title: "spec file unreadable", hint: "Check the path and that the file is readable." },
  BM1002: { title: "spec syntax error", hint: "Fix the YAML/JSON syntax at the location shown." },
  BM1003: { title: "spec value invalid", hint: "Change the value at the location shown; `docs/spec.md` lists what each option accepts." },
  BM1004: { title: "unknown spec option", hint: "Remove the option or fix its spelling; `docs/spec.md` lists every option." },
  BM1005: { title: "required spec option missing", hint: "Add the option; `docs/spec.md` shows an example." },
  BM1006: { title: "secret given inline", hint: "Give secrets by reference: `{ env: NAME }` or `{ file: path }`, so they never sit in a spec file or a shell history." },
  BM1007: { title: "secret reference unresolved", hint: "Set the environment variable or create the file the reference names." },
  BM1008: { title: "plugin could not be loaded", hint: "Check the plugin path (relative to the spec) or install the package; a plugin module exports a class with `name` and `apply(build)`." },
  BM1009: { title: "command-line usage error", hint: "Run `bootmedia --help` for the commands and their options." },
  BM1010: { title: "output exists", hint: "Pass --force to replace it (the old output stays intact until the new one is complete), or choose another output path." },
  // BM2xxx — content library, cache and fetch
  BM2001: { title: "content library not found", hint: "Check `contentLibrary` in the spec; it must be a folder laid out as docs/content-library.md describes." },
  BM2002: { title: "package not found", hint: "Check the package id; `bootmedia plan` lists the packages the library holds." },
  BM2003: { title: "package manifest invalid", hint: "Regenerate the package manifest; docs/content-library.md describes its format." },
  BM2004: { title: "content hash mismatch", hint: "The library file differs from its manifest: redistribute the package to the library, then build again." },
  BM2005: { title: "content file missing", hint: "The manifest names a file the library does not hold: redistribute the package." },
  BM2006: { title: "unsafe manifest path", hint: "A manifest path must be relative and stay inside the package (no `..`, no absolute paths)." },
  BM2007: { title: "wrong package type", hint: "Use a package of the type the option expects (boot-image, prestart, task-sequence)." },
  // BM3xxx — validation
  BM3001: { title: "media path collision", hint: "Two sources want the same path on the media; rename one or drop a package." },
  BM3002: { title: "no boot image", hint: "Name a boot-image package in `bootImage`." },
  BM3003: { title: "architecture mismatch", hint: "Add a boot image whose architecture the target machines can run (x86 runs everywhere in BIOS mode)." },
  BM3004: { title: "missing driver", hint: "Add the driver to the boot image or pick a boot image that carries it." },
  BM3005: { title: "no writer for target", hint: "Use a target type a loaded plugin writes: directory, iso or usb." },
  BM3006: { title: "plugin diagnostic", hint: "See the plugin's documentation." },
  BM3007: { title: "no firmware boot files", hint: "The boot image carries no boot files for the firmware asked for; pick one that does." },
  BM3008: { title: "option not supported yet", hint: "This version does not implement the option; remove it from the spec (see the issue tracker for when it lands)." },
  BM3009: { title: "management point invalid", hint: "Use http(s)://host[:port][/path] without credentials; site-based media has exactly one MP, dynamic media distinct priorities." },
  BM3010: { title: "no media password", hint: "Set security.password ({ env: NAME }): the seed says always assign a password to bootable media." },
  BM3110: { title: "volume exceeds capacity", hint: "Choose a larger capacity (dvd, dvd-dl, bd25) or leave content out; boot files must fit on volume 1." },
  // BM4xxx — write
  BM4001: { title: "write failed", hint: "Check free space and permissions at the output path." },
  BM4002: { title: "source changed while writing", hint: "A source file changed size or vanished during the build; make sure nothing writes to the content while building." },
  BM4003: { title: "build interrupted", hint: "The build was cancelled; the previous output is untouched. Run it again when ready." },
  BM4004: { title: "hook failed", hint: "A plugin failed; the message names the hook and the plugin. Fix or remove the plugin." },


} as const satisfies Record<string, { title: string; hint: string }>;
