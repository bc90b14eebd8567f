/**
 * The one way product code runs an external program: by its name in the doctor's table
 * (core/doctor.ts), which the compiler checks. `bootmedia doctor --for <feature>` installs
 * everything a feature runs because testing/program-coverage.test.ts reads every call of these
 * functions and refuses execa or node:child_process anywhere else in product code.
 */
import type { Options, ResultPromise } from "execa";
import type { HostTool } from "./doctor.ts";

/** Names a program that runs inside another's arguments (QEMU's `guestfwd=…-cmd:`, a shell script's). */
export function programName<T extends HostTool>(tool: T): T {
  return tool;
}

/** Runs `program` to its end. execa is loaded only then: plans and cached builds never load it. */
export async function runProgram<O extends Options = {}>(
  program: HostTool,
  args: readonly string[] = [],
  options?: O,
): Promise<Awaited<ResultPromise<{} & O>>> {
  const { process } = await startProgram(program, args, options);
  return await process;
}

/**
 * Starts `program` and hands back the running process (streams, kill, exit); it is boxed so
 * that awaiting the start does not wait for the program's end.
 */
export async function startProgram<O extends Options = {}>(
  program: HostTool,
  args: readonly string[],
  options?: O,
): Promise<{ process: ResultPromise<{} & O> }> {
  const { execa } = await import("execa");
  return { process: execa(program, args, options) };
}
