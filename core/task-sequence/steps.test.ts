import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { loadPackageSteps, parseStepsText } from "./load.ts";
import { imagePackages, referencedPackages } from "./steps.ts";
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
    [
      "a select-disk size in no unit",
      "steps:\n  - { name: D, type: select-disk, minSize: 8 gigs }",
      /steps\[0\] \("D"\): minSize: /,
    ],
    [
      "a select-disk path outside /dev",
      "steps:\n  - { name: D, type: select-disk, path: /etc/passwd }",
      /steps\[0\] \("D"\): path: a device path like \/dev\/sda/,
    ],
    ["an apply-image without a package", "steps:\n  - { name: A, type: apply-image }", /steps\[0\] \("A"\): package: /],
    [
      "a write-files path leaving the root",
      "steps:\n  - { name: W, type: write-files, files: [{ path: /etc/../../x, content: a }] }",
      /steps\[0\] \("W"\): files\.0\.path: an absolute path inside the installed system/,
    ],
    [
      "a write-files relative path",
      "steps:\n  - { name: W, type: write-files, files: [{ path: etc/motd, content: a }] }",
      /steps\[0\] \("W"\): files\.0\.path: /,
    ],
    [
      "a write-files mode that is not octal",
      "steps:\n  - { name: W, type: write-files, files: [{ path: /etc/motd, content: a, mode: '0999' }] }",
      /steps\[0\] \("W"\): files\.0\.mode: octal permissions/,
    ],
    ["a restart with options", "steps:\n  - { name: R, type: restart, delay: 5 }", /steps\[0\] \("R"\): \(step\): /],
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

  describe("disk steps", () => {
    const deploy = `
steps:
  - { name: Pick, type: select-disk, minSize: 1.5GiB, serial: "QM 0001" }
  - { name: Image, type: apply-image, package: OSI00001 }
  - name: Files
    type: write-files
    package: EXTRA
    files:
      - { path: /etc/motd, content: "hello %OSDComputerName%\\n", mode: "600" }
      - { path: /etc/empty, content: "" }
  - { name: Go, type: restart }
`;
    it("validate with defaults, sizes in bytes, packages in first-use order", () => {
      const { steps } = parseStepsText(deploy, "steps.yaml");
      expect(steps[0]).toMatchObject({ type: "select-disk", minSize: 1610612736, serial: "QM 0001" });
      expect(steps[2]).toMatchObject({ files: [{ mode: "600" }, { path: "/etc/empty", content: "", mode: "0644" }] });
      expect(referencedPackages(steps)).toEqual(["OSI00001", "EXTRA"]);
      expect(imagePackages(steps)).toEqual(["OSI00001"]);
      expect(parseStepsText("steps:\n  - { name: D, type: select-disk, minSize: 4096 }", "s").steps[0]).toMatchObject({
        minSize: 4096,
      });
    });

    it("encode as S, F and I lines the engine splits on tabs", () => {
      const { steps } = parseStepsText(deploy, "steps.yaml");
      const text = encodeTaskSequence({
        steps,
        variables: {},
        packages: [{ id: "OSI00001", locations: ["http://dp/packages/OSI00001/files/"], files: [] }],
        images: [
          {
            id: "OSI00001",
            image: "disk.raw.zst",
            compression: "zstd",
            size: 1048576,
            sha256: "a".repeat(64),
            partitionTable: "gpt",
            rootPartition: 2,
            firmware: ["bios", "uefi"],
          },
        ],
      });
      const rows = text
        .trimEnd()
        .split("\n")
        .map((l) => l.split("\t"));
      const unb64 = (f: string) => (f === "-" ? "" : Buffer.from(f, "base64").toString());
      expect(rows[0]).toEqual(["bootmedia-steps", "1", "4"]);
      expect(rows[1]!.slice(0, 8)).toEqual(["S", "1", "0", "1", "select-disk", "0", "1610612736", "-"]);
      expect([unb64(rows[1]![10]!), unb64(rows[1]![11]!)]).toEqual(["", "QM 0001"]);
      expect(rows[2]!.slice(4)).toEqual(["apply-image", "0", "-", "-", rows[2]![8], "-", "-", "OSI00001"]);
      expect(rows[3]!.slice(10)).toEqual(["-", "EXTRA"]);
      expect(rows[4]!.slice(4, 8)).toEqual(["restart", "0", "-", "-"]);
      const files = rows.filter((r) => r[0] === "F");
      expect(files.map((r) => [r[1], r[2], unb64(r[3]!), unb64(r[4]!)])).toEqual([
        ["3", "0600", "/etc/motd", "hello %OSDComputerName%\n"],
        ["3", "0644", "/etc/empty", ""],
      ]);
      expect(rows.at(-1)).toEqual([
        "I",
        "OSI00001",
        "zstd",
        "1048576",
        "a".repeat(64),
        "gpt",
        "2",
        "bios,uefi",
        Buffer.from("disk.raw.zst").toString("base64"),
      ]);
      for (const r of rows.slice(1)) for (const f of r) expect(f).not.toBe("");
    });

    it("a program of the older step types is unchanged (no F or I lines, same columns)", () => {
      const { steps } = parseStepsText(three, "steps.yaml");
      const text = encodeTaskSequence({ steps, variables: {}, packages: [] });
      expect(text.split("\n").filter((l) => /^[FI]\t/.test(l))).toEqual([]);
      expect(text.split("\n")[1]!.split("\t")).toHaveLength(12);
    });
  });
});
