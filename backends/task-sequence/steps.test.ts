import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { loadPackageSteps, parseStepsText } from "./load.ts";
import { encodeTaskSequence, flattenSteps } from "./wire.ts";

const three = `
steps:
  - name: Say hello
    type: run-command
    command: echo "hello %OSDComputerName%"
  - name: Remember
    type: set-variable
    variable: Greeting
    value: done
  - name: May fail
    type: run-command
    command: exit 3
    continueOnError: true
`;

describe("task-sequence steps", () => {
  it("a three-step file validates, with defaults filled", () => {
    const { steps } = parseStepsText(three, "steps.yaml");
    expect(steps.map((s) => s.type)).toEqual(["run-command", "set-variable", "run-command"]);
    expect(steps[0]).toMatchObject({ timeout: 3600, successCodes: [0], continueOnError: false });
  });

  it("loadPackageSteps reads a library package folder's files/steps.yaml (the sample library's BM200010)", async () => {
    const pkg = fileURLToPath(new URL("../../fixtures/content/packages/BM200010", import.meta.url));
    const { steps } = await loadPackageSteps(pkg);
    expect(steps.map((s) => s.type)).toEqual(["run-command", "set-variable", "group"]);
    await expect(loadPackageSteps(fileURLToPath(new URL(".", import.meta.url)))).rejects.toMatchObject({
      code: "BM2402",
    });
  });

  it.each([
    [
      "an unknown step type",
      "steps:\n  - { name: A, type: reboot-now }",
      /steps\[0\] \("A"\): type: unknown step type "reboot-now"/,
    ],
    [
      "a missing field",
      "steps:\n  - name: G\n    type: group\n    steps:\n      - { name: B, type: run-command }",
      /steps\[0\]\.steps\[0\] \("B"\): command: /,
    ],
    [
      "a 10 MB command",
      `steps:\n  - { name: Big, type: run-command, command: "${"x".repeat(10 * 1024 * 1024)}" }`,
      /steps\[0\] \("Big"\): command: at most 32768 bytes/,
    ],
    [
      "a cycle of groups",
      "steps:\n  - &g\n    name: G\n    type: group\n    steps: [*g]",
      /steps\[0\]\.steps\[0\]: a group contains itself/,
    ],
    [
      "a read-only variable",
      "steps:\n  - { name: S, type: set-variable, variable: _SMSTSMediaType, value: x }",
      /steps\[0\] \("S"\): variable: variables starting with _ are read-only/,
    ],
  ])("refuses %s with a coded error naming the step", (_what, text, message) => {
    let err: unknown;
    try {
      parseStepsText(text, "steps.yaml");
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: expect.stringMatching(/^BM(2401|2403|1014)$/) });
    expect((err as Error).message).toMatch(message);
  });

  it("flattens groups in document order with parent and last descendant", () => {
    const { steps } = parseStepsText(
      "steps:\n  - { name: A, type: set-variable, variable: X, value: '1' }\n  - name: G\n    type: group\n    continueOnError: true\n    steps:\n      - { name: B, type: run-command, command: 'false' }\n      - { name: C, type: run-command, command: 'true', condition: { variable: X, equals: '1' } }\n  - { name: D, type: run-command, command: 'true' }",
      "steps.yaml",
    );
    expect(flattenSteps(steps).map((s) => [s.index, s.name, s.parent, s.last])).toEqual([
      [1, "A", 0, 1],
      [2, "G", 0, 4],
      [3, "B", 2, 3],
      [4, "C", 2, 4],
      [5, "D", 0, 5],
    ]);
    const text = encodeTaskSequence({ steps, variables: { OSDComputerName: "PC 1" }, packages: [] });
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("bootmedia-steps\t1\t5");
    expect(lines[4]!.split("\t")).toHaveLength(12);
    expect(Buffer.from(lines[4]!.split("\t")[9]!, "base64").toString()).toBe("equals X 1");
    expect(lines.at(-1)).toBe(`V\tOSDComputerName\t${Buffer.from("PC 1").toString("base64")}`);
  });
});
