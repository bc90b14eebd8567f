/**
 * Drives a command through a real pseudo-terminal with util-linux `script`, the way a
 * person types: wait until the screen shows a prompt, then send keys.
 */
import { spawn, type ChildProcess } from "node:child_process";

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]/g;

export const KEY = { ENTER: "\r", DOWN: "\x1b[B", UP: "\x1b[A", CTRL_C: "\x03", CTRL_U: "\x15" } as const;

export class PtySession {
  private readonly child: ChildProcess;
  private raw = "";
  private seen = 0;
  readonly exited: Promise<number>;

  constructor(command: string, opts: { cwd: string; env: Record<string, string> }) {
    // -q quiet, -f flush each write, -e return the command's exit code, -c the command.
    // A pty made by `script` from a pipe has 0 columns; clack would wrap every character.
    this.child = spawn("script", ["-qfec", `stty cols 160 rows 50; ${command}`, "/dev/null"], {
      cwd: opts.cwd,
      env: { ...process.env, TERM: "xterm-256color", COLUMNS: "160", LINES: "50", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (b: Buffer) => (this.raw += b.toString("utf8")));
    this.child.stderr!.on("data", (b: Buffer) => (this.raw += b.toString("utf8")));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code ?? -1)));
  }

  /** Everything the terminal showed, without escape sequences. */
  get screen(): string {
    return this.raw.replace(ANSI, "");
  }

  /** Waits until `text` appears after what earlier waits consumed. */
  async waitFor(text: string, timeoutMs = 20_000): Promise<void> {
    const start = Date.now();
    for (;;) {
      const at = this.screen.indexOf(text, this.seen);
      if (at >= 0) {
        this.seen = at + text.length;
        return;
      }
      if (Date.now() - start > timeoutMs)
        throw new Error(`timed out waiting for ${JSON.stringify(text)}; screen:\n${this.screen.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async send(keys: string): Promise<void> {
    // Keys one write at a time, as a terminal delivers them, so the prompt sees each.
    this.child.stdin!.write(keys);
    await new Promise((r) => setTimeout(r, 150));
  }

  /** Waits for the prompt, clears the text box (its default) and types the answer. */
  async answer(prompt: string, keys: string): Promise<void> {
    await this.waitFor(prompt);
    await new Promise((r) => setTimeout(r, 100));
    await this.send(keys);
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}
