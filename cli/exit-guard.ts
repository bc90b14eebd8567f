/**
 * While a command runs, only bootmedia ends the process. A plugin calling process.exit (or
 * process.reallyExit, which process.exit ends in) would otherwise end it with the status it
 * chose — 0 included, with no output and no word. Here that exit becomes a coded failure
 * naming the plugin and the place that called exit (status 1), temporaries removed as for
 * any failure; once the command is over, a late exit ends with the command's own status.
 * The signal handlers' exits pass (the interruption is marked first).
 */
import { BootmediaError } from "../base/errors.ts";
import { interruptedBy } from "../core/interrupt.ts";
import { runningPlugin } from "../core/plugin-activity.ts";
import type { OutputMode } from "./commands/render.ts";
import { reportFailure } from "./failure.ts";

type Exit = (code?: number) => never;
const SETUP = new Set(["load", "create", "apply"]);
const HINT =
  "A plugin must not end the process: it reports a problem by throwing a coded error (or a diagnostic). Fix or remove the plugin.";

export interface ExitGuard {
  /** The command is over with `status`: any later exit (a plugin's timer) ends with it too. */
  settle(status: number): number;
}

export function guardExits(mode: () => OutputMode): ExitGuard {
  const proc = process as unknown as { reallyExit: Exit };
  const original = proc.reallyExit;
  let settled: number | undefined;
  proc.reallyExit = ((code?: number) => {
    if (interruptedBy()) return original.call(process, code);
    if (settled === undefined) settled = reportFailure(exitError(code ?? 0, new Error().stack ?? ""), mode());
    return original.call(process, settled);
  }) as Exit;
  return {
    settle: (status) => (settled ??= status),
  };
}

function exitError(code: number, stack: string): BootmediaError {
  // The first frame outside Node's own code and this file is what called exit.
  const at = stack
    .split("\n")
    .slice(1)
    .map((l) => l.trim().replace(/^at (.* \()?(.*?)\)?$/, "$2"))
    .find((f) => /:\d+:\d+$/.test(f) && !f.startsWith("node:") && !f.includes("exit-guard"));
  const where = at ? ` at ${at.replace(/^file:\/\//, "")}` : "";
  const who = runningPlugin();
  if (!who)
    return new BootmediaError(
      "BM4004",
      `process.exit(${code}) was called before the command finished${where}; no plugin hook was running (a plugin's timer or callback, most likely)`,
      { hint: HINT },
    );
  const setup = SETUP.has(who.hook);
  const what = setup ? `while being set up (${who.hook})` : `in hook "${who.hook}"`;
  return Object.assign(
    new BootmediaError(
      setup ? "BM4006" : "BM4004",
      `plugin "${who.plugin}" ended the process (process.exit(${code})) ${what}${where}`,
      { hint: HINT, where: setup ? who.plugin : `${who.hook} ▸ ${who.plugin}` },
    ),
    who,
  );
}
