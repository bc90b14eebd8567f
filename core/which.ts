/**
 * The one PATH lookup: a command is the first PATH entry holding an executable regular
 * file of that name. Entries it cannot use — a file, a folder it may not search, a missing
 * folder — are skipped as a shell skips them, never an error: one bad entry must not break
 * every build. An empty entry (the current folder, to a shell) is skipped too.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

export function which(cmd: string, opts: { also?: readonly string[]; path?: string } = {}): string | undefined {
  for (const dir of [...(opts.path ?? process.env.PATH ?? "").split(delimiter), ...(opts.also ?? [])]) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not there, or not usable: the next entry */
    }
  }
  return undefined;
}
