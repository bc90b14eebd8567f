/**
 * Every asynchronous hook call has a time limit: a plugin whose promise never settles (or
 * waits on a timer forever) becomes BM4005 naming the plugin and the hook, instead of a
 * build that hangs or exits 13 without a word. Generous by default: hooks may download
 * manifests or probe drives.
 */
import { BootmediaError } from "../base/errors.ts";
import "./codes.ts";

export const DEFAULT_HOOK_TIMEOUT_S = 600;

/** `work`, or BM4005 once `ms` have passed; the timer keeps the process alive meanwhile. */
export function withTimeLimit<T>(work: Promise<T>, ms: number, hook: string, plugin: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new BootmediaError(
        "BM4005",
        `plugin "${plugin}" did not finish hook "${hook}" within ${ms / 1000} s`,
        { where: `${hook} ▸ ${plugin}` },
      );
      reject(Object.assign(err, { hook, plugin }));
    }, ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}
