import { describe, it, expect } from "vitest";
import { parseManifest } from "./manifest.ts";
import { isBootmediaError } from "../../base/errors.ts";

const bootImage = (testbed: unknown) => ({
  id: "DEB12",
  type: "boot-image",
  name: "Debian installer",
  version: "12",
  bootImage: {
    arch: "x64",
    firmware: ["bios", "uefi"],
    drivers: ["e1000"],
    kernel: "boot/x64/linux",
    initrd: "boot/x64/initrd.gz",
    bootFiles: {},
    testbed,
  },
  files: [],
});

describe("a boot image's testbed hints in its manifest", () => {
  it("reads the pass patterns and least memory", () => {
    const pkg = parseManifest(
      bootImage({ pass: { screen: "Select a language", serial: "Select a language" }, memoryMiB: 1024 }),
      "DEB12",
    );
    expect(pkg.bootImage?.testbed).toEqual({
      pass: { screen: "Select a language", serial: "Select a language" },
      memoryMiB: 1024,
    });
  });

  it.each([
    ["an unknown pass source", { pass: { vga: "x" } }],
    ["an empty pattern", { pass: { serial: "" } }],
    ["memory below 128 MiB", { memoryMiB: 64 }],
    ["a misspelt field", { memory: 1024 }],
  ])("refuses %s as BM2003", (_, testbed) => {
    let error: unknown;
    try {
      parseManifest(bootImage(testbed), "DEB12");
    } catch (e) {
      error = e;
    }
    expect(isBootmediaError(error) && error.code).toBe("BM2003");
  });
});
