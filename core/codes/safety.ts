/**
 * Codes of the safety rules around inputs and outputs: special files, limits, links out of
 * input folders, cache integrity, plugin time limits, the scratch folder.
 */
export const SAFETY_CODES = {
  BM1011: { title: "output is a special file", hint: "Outputs are regular files or folders: choose a path in a folder you own. To write a USB drive, use `--target usb --out /dev/sdX` (its drive checks apply)." },
  BM1012: { title: "output is the wrong kind", hint: "The output path holds a folder where this target writes a file (or a file where it writes a folder); choose another path, or remove what is there yourself." },
  BM1013: { title: "input is not a regular file", hint: "Give a regular file (not a FIFO, device, socket or folder) for the spec, password or secret file." },
  BM1014: { title: "input over a limit", hint: "The spec (or manifest) is larger than bootmedia accepts; split it or remove entries. The message names the limit." },
  BM1015: { title: "invalid option value", hint: "Give a value in the range the option's help (`bootmedia build --help`) shows." },
  BM2008: { title: "cache entry corrupted", hint: "A cached file no longer matched its hash; bootmedia removed it and fetched it again. If this recurs, check the disk holding the cache (`bootmedia cache verify`)." },
  BM2009: { title: "link or special file in an input folder", hint: "Input folders may hold only folders, regular files and links to regular files inside the same folder: replace the link by the file it points to, or move the file into the folder." },
  BM2010: { title: "cache folder unusable", hint: "Point --cache-dir or BOOTMEDIA_CACHE at a folder you can write (it is created if missing), not at a file." },
  BM4005: { title: "plugin hook timed out", hint: "A plugin's hook did not finish within the time limit; the message names the plugin and the hook. Fix or remove the plugin, or raise the limit (--hook-timeout SECONDS or BOOTMEDIA_HOOK_TIMEOUT)." },
  BM4006: { title: "plugin setup failed", hint: "The plugin threw while being set up (its apply method); the message names it. Fix or remove the plugin." },
  BM4007: { title: "temporary folder unusable", hint: "Set TMPDIR to an existing folder you can write (or unset it to use /tmp)." },
} as const satisfies Record<string, { title: string; hint: string }>;
