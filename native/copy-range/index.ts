/**
 * The optional native payload copier (copy_range.c), built by `npm ci` when a C compiler and
 * Node's headers are there: copies file payloads into an image inside the kernel, on one of
 * libuv's pool threads. Writers fall back to read + write on the main thread without it;
 * BOOTMEDIA_NO_NATIVE=1 turns it off (tests cover both paths).
 */
import { createRequire } from "node:module";
import { packagePath } from "../../base/package-root.ts";

/** Per job in `jobs`: path index, length, image offset, check end (1 = fail if the source is longer), source offset. */
export const JOB_FIELDS = 5;

/** Failure kinds, as copy_range.c numbers them. */
export const NATIVE_KINDS = ["ok", "open", "read", "write", "shrank", "grew", "cancelled"] as const;

/** Resolves null when every job is copied, else [job index, kind, errno, bytes of the job copied]. */
export type CopyFiles = (
  outFd: number,
  paths: string[],
  jobs: Float64Array,
  state: BigInt64Array,
) => Promise<[number, number, number, number] | null>;

function load(): CopyFiles | undefined {
  if (process.env.BOOTMEDIA_NO_NATIVE) return undefined;
  try {
    const helper = createRequire(import.meta.url)(packagePath("native/copy-range/build/Release/copy_range.node")) as {
      copyFiles: CopyFiles;
      jobFields?: number;
    };
    // A helper built from older sources reads another job layout: copying through user space is
    // slower, copying wrong bytes is not an option (`npm ci` or `node scripts/build-native.mjs` rebuilds it).
    return helper.jobFields === JOB_FIELDS ? helper.copyFiles : undefined;
  } catch {
    return undefined;
  }
}

export const copyFiles: CopyFiles | undefined = load();
