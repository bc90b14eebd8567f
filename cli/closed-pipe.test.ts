import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { BIN, ROOT } from "../testing/cli.ts";

describe("a reader that closes the pipe early", () => {
  it("does not turn `bootmedia plan | head -1` into an internal error", async () => {
    // pipefail: the shell's status is bootmedia's own; head reads one line and leaves.
    const r = await execa("bash", ["-o", "pipefail", "-c", `node ${BIN} plan fixtures/specs/sample-dir.yaml 2>&1 | head -1`], { cwd: ROOT, reject: false, env: { NO_COLOR: "1" } });
    expect(r.stdout.split("\n")).toHaveLength(1);
    expect(r.stdout).not.toContain("internal error");
    expect(r.exitCode).toBe(0);
  });
});
