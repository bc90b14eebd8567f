/**
 * The task-sequence engine's variables (agent/lib/ts.sh) under busybox sh: media.json's
 * variables as the media-config renderer writes them read back byte for byte, %Name%
 * expansion, and the redaction of secret values. The whole engine against the real MP:
 * testbed/mp/ts-engine.test.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderConfigJson } from "../../../core/media-config.ts";
import type { MediaConfig } from "../../../core/types.ts";
import { AGENT_INIT, AGENT_LIBS } from "../agent-files.ts";

const agent = readFileSync(AGENT_INIT, "utf8");
const helpers = agent.slice(agent.indexOf("json_str()"), agent.indexOf("mount_basics()"));
const work = mkdtempSync(join(tmpdir(), "bm-ts-vars-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `body` after the agent's libraries are sourced, with TS_DIR ready; returns stdout. */
function sh(body: string, media = ""): string {
  const tsDir = join(work, `ts-${Math.random().toString(16).slice(2)}`);
  mkdirSync(tsDir);
  writeFileSync(join(tsDir, "secrets"), "");
  return execFileSync(
    "busybox",
    [
      "sh",
      "-c",
      `${helpers}\n${AGENT_LIBS.map((f) => `. '${f}'`).join("\n")}\nMEDIA='${media}'\nTS_DIR='${tsDir}'\n${body}`,
    ],
    { encoding: "utf8" },
  );
}

describe("task-sequence variables (ts.sh)", () => {
  it("reads media.json's variables exactly as the renderer wrote them", () => {
    const variables = {
      OSDTimeZone: "UTC",
      Quote: 'say "hi" \\ it\'s',
      Tabs: "a\tb\nc",
      Percent: "100% %X%",
      Unicode: "Grüße, 東京",
      Empty: "",
      Braces: "} {",
    };
    const media = join(work, "media");
    mkdirSync(join(media, "bootmedia"), { recursive: true });
    writeFileSync(
      join(media, "bootmedia/media.json"),
      renderConfigJson({ schema: 1, id: "v", variables, prestart: null } as unknown as MediaConfig),
    );
    const names = Object.keys(variables);
    const out = sh(
      `ts_media_variables\n${names.map((n) => `printf '%s=' ${n}; printf '%s' "$TSV_${n}" | base64 -w 0; echo`).join("\n")}`,
      media,
    );
    const read = Object.fromEntries(
      out
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), Buffer.from(l.slice(l.indexOf("=") + 1), "base64").toString()]),
    );
    expect(read).toEqual(variables);
  });

  it.each([
    ["hello %Name%", "hello World"],
    ["%Name%%Name%", "WorldWorld"],
    ["100% sure, %Name%", "100% sure, World"],
    ["%Unknown% stays", "%Unknown% stays"],
    ["%not a name% %Name%", "%not a name% World"],
    ["%", "%"],
    ["%%", "%%"],
    ["%Empty%|", "|"],
    ["%Odd%", "$(echo no) `x` 'q' \"d\""],
    ["one pass: %Ref%", "one pass: %Name%"],
  ])("expands %s", (text, expected) => {
    const out = sh(`TSV_Name=World TSV_Empty= TSV_Ref='%Name%' TSV_Odd='$(echo no) \`x\` '"'"'q'"'"' "d"'
ts_expand '${text}'
printf '%s' "$TS_EXPANDED"`);
    expect(out).toBe(expected);
  });

  it("redacts every secret value, each line of a multi-line one too", () => {
    const out = sh(`ts_secret 'pa$$word'
ts_secret "$(printf 'line-one\\nline-two')"
printf 'a pa$$word b\\nline-one and line-two\\nclean\\n' | ts_redact`);
    expect(out).toBe("a *** b\n*** and ***\nclean\n");
  });
});
