/** What a command module implements, and the table row `--help` shows of it. */
import type { CAC } from "cac";

export type Run = (fn: () => Promise<number>) => void;

export interface CommandRow {
  usage: string;
  describe: string;
  load(): Promise<CommandModule>;
}

export interface CommandModule {
  /** Registers the command (options, action); `args` are the words after `bootmedia`. */
  register(cli: CAC, run: Run, args: string[], row: CommandRow): void | Promise<void>;
}
