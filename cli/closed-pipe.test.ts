import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { BIN, ROOT } from "../testing/cli.ts";

describe("a reader that closes the pipe early", () => {
  it("does not turn `bootmedia plan | head -1` into an internal error", async () => {
    // The reader closes its end before bootmedia writes a byte (so the write meets EPIPE every
    // time, not only when head wins the race); bootmedia's status is the pipeline's (pipefail).
    const reader = "(exec 0<&-; sleep 2)";
    const r = await execa(
      "bash",
      [
        "-o",
        "pipefail",
        "-c",
        `node ${BIN} plan fixtures/specs/sample-dir.yaml 2>/tmp/bm-closed-pipe.err | ${reader}; echo "status $?"; cat /tmp/bm-closed-pipe.err`,
      ],
      { cwd: ROOT, reject: false, env: { NO_COLOR: "1" } },
    );
    expect(r.stdout).not.toContain("internal error");
    expect(r.stdout).toContain("status 0");
  });
});
