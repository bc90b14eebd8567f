/** `bootmedia mp serve --json` as its own process, the way users run it, with its stdout lines as they come. */
import { execa, type ResultPromise } from "execa";
import { BIN } from "../../../testing/cli.ts";

export class ServeProcess {
  readonly proc: ResultPromise;
  out = "";
  constructor(args: string[]) {
    this.proc = execa("node", [BIN, "mp", "serve", ...args], { reject: false, env: { NO_COLOR: "1" } });
    this.proc.stdout!.on("data", (d: Buffer) => (this.out += d.toString()));
  }
  lines(): Array<Record<string, unknown>> {
    return this.out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  async waitFor(pred: (l: Record<string, unknown>) => boolean, ms = 20_000): Promise<Record<string, unknown>> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.lines().find(pred);
      if (hit) return hit;
      if (Date.now() > end || this.proc.exitCode !== null)
        throw new Error(`no such line; stdout:\n${this.out}\nstderr:\n${String((await this.proc).stderr)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async url(): Promise<string> {
    return (await this.waitFor((l) => l.event === "listening")).url as string;
  }
}
