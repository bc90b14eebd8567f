/**
 * Test support: `bootmedia` with the dp and cache commands registered, for as long as
 * core/cli/main.ts does not wire them itself (then the tests use bin/bootmedia.js).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cac } from "cac";
import { execa } from "execa";
import { BIN } from "../../core/cli/test-helpers.ts";
import { reportFailure } from "../../core/cli/main.ts";
import { registerDpCommands } from "../../core/cli/commands/dp.ts";
import { registerCacheCommands } from "../../core/cli/commands/cache.ts";

const WIRED = readFileSync(new URL("../../core/cli/main.ts", import.meta.url), "utf8").includes("registerDpCommands");

/** argv for a child process running `bootmedia dp|cache …`. */
export function dpCliArgs(args: string[]): string[] {
  return WIRED ? [BIN, ...args] : ["--import", "tsx", fileURLToPath(import.meta.url), ...args];
}

/** Runs `bootmedia dp|cache …`; never throws on a non-zero exit. */
export async function dpCli(args: string[], env: Record<string, string> = {}) {
  const r = await execa("node", dpCliArgs(args), { reject: false, env: { NO_COLOR: "1", ...env } });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function runStandalone(argv: string[]): Promise<number> {
  const cli = cac("bootmedia");
  let pending: Promise<number> | undefined;
  const run = (fn: () => Promise<number>) => {
    pending = fn();
  };
  registerDpCommands(cli, run);
  registerCacheCommands(cli, run);
  cli.option("--json", "Machine-readable output").option("--quiet", "No progress output");
  const parsed = cli.parse(argv, { run: false });
  try {
    await cli.runMatchedCommand();
    return await (pending ?? Promise.resolve(0));
  } catch (e) {
    return reportFailure(e, { json: parsed.options.json === true, quiet: false });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await runStandalone(process.argv);
