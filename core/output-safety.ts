/**
 * What an output path may be, checked before any work: a regular file or a folder of the
 * kind the target type declares it writes, or (for a target type that writes drives, such as
 * usb) a drive, which then goes through that plugin's drive checks. Devices, FIFOs and
 * sockets are never replaced (a rename over /dev/null would replace the node itself), and
 * nothing is ever created directly in /dev.
 */
import { closeSync, openSync, statSync, unlinkSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { BootmediaError } from "../base/errors.ts";
import "./codes.ts";
import { kindOf } from "./limits.ts";
import type { ResolvedTarget } from "./target.ts";

/**
 * Longest output name, in bytes: the temporary beside it (".<name>.bootmedia-<pid>.tmp")
 * and the log ("<name>.bootmedia.log") must still fit the 255 bytes of NAME_MAX.
 */
const MAX_OUTPUT_NAME_BYTES = 200;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Refuses an existing output that is not a regular file or folder (BM1016). */
export function refuseSpecialOutput(path: string): void {
  const st = statOrUndefined(path);
  if (st && !st.isFile() && !st.isDirectory()) {
    throw new BootmediaError(
      "BM1016",
      `output ${path} is ${kindOf(st)}; bootmedia replaces only regular files and folders`,
      { where: path },
    );
  }
}

/** Every rule about the target's output path; throws the first problem as a coded error. */
export function checkOutputTarget(
  target: Pick<ResolvedTarget, "type" | "output" | "writes" | "drives" | "isDrive">,
): void {
  const { output, type } = target;
  if (target.isDrive) return; // a drive: the drive checks of the plugin that writes it decide
  const st = statOrUndefined(output);
  if (!st && dirname(output) === "/dev") {
    // BM3306 is the usb plugin's code: usb is the built-in target type that writes drives.
    if (target.drives) throw new BootmediaError("BM3306", `no drive at ${output}`, { where: output });
    throw new BootmediaError("BM1016", `${output} is not a device here, and bootmedia never creates files in /dev`, {
      where: output,
    });
  }
  refuseSpecialOutput(output);
  if (st?.isDirectory() && target.writes === "file") {
    throw new BootmediaError("BM1012", `output ${output} is a folder, but the ${type} target writes a file`, {
      where: output,
    });
  }
  if (st?.isFile() && target.writes === "folder") {
    throw new BootmediaError("BM1012", `output ${output} is a file, but the ${type} target writes a folder`, {
      where: output,
    });
  }
  checkOutputLocation(output);
}

/**
 * The output's name fits, and its folder (or the nearest existing parent) takes new files:
 * probed by creating and removing a file, since access() says yes to root even on /proc.
 */
function checkOutputLocation(output: string): void {
  if (Buffer.byteLength(basename(output)) > MAX_OUTPUT_NAME_BYTES) {
    throw new BootmediaError(
      "BM4001",
      `output name is ${Buffer.byteLength(basename(output))} bytes long; the limit is ${MAX_OUTPUT_NAME_BYTES}`,
      {
        where: output,
        hint: `Choose a shorter output name (at most ${MAX_OUTPUT_NAME_BYTES} bytes: file systems allow 255, and the temporary and log beside the output need the rest).`,
      },
    );
  }
  let dir = dirname(output);
  while (!statOrUndefined(dir)) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const st = statOrUndefined(dir);
  if (!st?.isDirectory()) {
    throw new BootmediaError("BM4001", `cannot create ${output}: ${dir} is not a folder`, {
      where: output,
      hint: "Choose an output inside a folder.",
    });
  }
  const probe = join(dir, `.bootmedia-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, "wx"));
    unlinkSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return unlinkSync(probe);
    throw new BootmediaError("BM4001", `cannot create files in ${dir} (${code ?? String(e)})`, {
      where: output,
      hint: writeHint(code),
    });
  }
}

/** A hint for a failed write, by errno. */
export function writeHint(code: string | undefined): string {
  switch (code) {
    case "EACCES":
    case "EPERM":
      return "You may not write there: choose an output in a folder you own, or fix the folder's permissions.";
    case "EROFS":
      return "That file system is read-only: choose an output on a writable one.";
    case "ENOSPC":
    case "EDQUOT":
      return "The disk (or your quota) is full: free space or choose an output on another disk.";
    case "EFBIG":
      return "The file is larger than this process may write (ulimit -f) or the file system allows (FAT: 4 GiB): raise the limit or choose another disk.";
    case "ENAMETOOLONG":
      return "The path is too long: choose a shorter output path.";
    case "ENOENT":
    case "ENOTDIR":
      return "Files cannot be created there (a virtual file system such as /proc, or a missing folder): choose an output in an ordinary folder.";
    default:
      return "Check free space and permissions at the output path.";
  }
}

const WRITE_ERRNOS = new Set([
  "EACCES",
  "EPERM",
  "EROFS",
  "ENOSPC",
  "EDQUOT",
  "EFBIG",
  "ENAMETOOLONG",
  "ENOENT",
  "ENOTDIR",
  "EISDIR",
  "EIO",
]);

/** A file-system error met while writing outputs becomes BM4001 with a hint; anything else is returned as is. */
export function codedWriteError(e: unknown, output: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const cause = (e as { cause?: NodeJS.ErrnoException } | undefined)?.cause?.code;
  const errno = code && WRITE_ERRNOS.has(code) ? code : cause && WRITE_ERRNOS.has(cause) ? cause : undefined;
  if (!errno) return e;
  if (e instanceof BootmediaError && e.code !== "BM4004") return e;
  return new BootmediaError("BM4001", `writing ${output} failed: ${errno} (${(e as Error).message})`, {
    where: output,
    hint: writeHint(errno),
    cause: e,
  });
}
