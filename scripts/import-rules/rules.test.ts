import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importGraph, importsOf } from "./graph.ts";
import { checkLayers, checkPluginImports, countPluginImports, importCycles } from "./rules.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("the source tree's imports", () => {
  const edges = importGraph(root);

  it("go one way through the layers: base <- formats <- core <- plugins <- backends <- testbed <- api <- cli", () => {
    expect(edges.length).toBeGreaterThan(500);
    expect(checkLayers(edges).map((v) => `${v.edge.from}:${v.edge.line} ${v.why}`)).toEqual([]);
  });

  it("form no cycle between files or folders", () => {
    expect(importCycles(edges)).toEqual({ files: [], folders: [] });
  });

  it("let a plugin reach another plugin only through its index.ts", () => {
    expect(checkPluginImports(edges).map((v) => `${v.edge.from}:${v.edge.line} -> ${v.edge.to}`)).toEqual([]);
    expect(countPluginImports(edges).notThroughIndex).toBe(0);
  });
});

describe("the checker", () => {
  it("catches core importing a plugin, formats importing core, and product code importing test support", () => {
    const edges = [
      ...importsOf("core/run.ts", 'import { IsoPlugin } from "../plugins/iso/iso-plugin.ts";'),
      ...importsOf("formats/fat/write.ts", 'import type { BuildContext } from "../../core/context.ts";'),
      ...importsOf("plugins/iso/iso-plugin.ts", 'const t = await import("../../testing/cli.ts");'),
      ...importsOf("plugins/iso/iso-plugin.test.ts", 'import { bootmedia } from "../../testing/cli.ts";'),
    ];
    expect(checkLayers(edges).map((v) => v.edge.from)).toEqual([
      "core/run.ts",
      "formats/fat/write.ts",
      "plugins/iso/iso-plugin.ts",
    ]);
  });

  it("catches a plugin reaching into another plugin's files, type-only and dynamic imports included, and counts plugin-to-plugin imports", () => {
    const edges = [
      ...importsOf("plugins/secrets/secrets-plugin.ts", 'import { PASSWORD } from "../password/spec.ts";'),
      ...importsOf(
        "plugins/secure-boot/kernel-check.ts",
        'import type { X } from "../boot-image/boot-image-plugin.ts";',
      ),
      ...importsOf("plugins/iso/inspect.ts", 'const r = await import("../media-config/render.ts");'),
      ...importsOf(
        "plugins/certificates/certificate-plugin.ts",
        'import { getSecretsHooks } from "../secrets/index.ts";',
      ),
      ...importsOf("plugins/builtin.ts", 'import iso from "./iso/index.ts";'),
      ...importsOf("plugins/secrets/secrets-plugin.ts", 'import { sealSecrets } from "./secret-box.ts";'),
      ...importsOf(
        "plugins/secrets/secrets-leak.test.ts",
        'import { makePkiFixtures } from "../certificates/testing/pki-fixtures.ts";',
      ),
      ...importsOf(
        "backends/media-diff/diff.ts",
        'import { CERT_PATH } from "../../plugins/certificates/certificate-plugin.ts";',
      ),
    ];
    expect(checkPluginImports(edges).map((v) => v.edge.from)).toEqual([
      "plugins/secrets/secrets-plugin.ts",
      "plugins/secure-boot/kernel-check.ts",
      "plugins/iso/inspect.ts",
    ]);
    expect(countPluginImports(edges)).toEqual({ total: 5, notThroughIndex: 3, compositionTable: 1 });
  });

  it("catches a file cycle and a folder cycle, type-only imports included", () => {
    const edges = [
      ...importsOf("testbed/report.ts", 'import { renderHtml } from "./report-html.ts";'),
      ...importsOf("testbed/report-html.ts", 'import type { TestbedReport } from "./report.ts";'),
      ...importsOf("plugins/a/x.ts", 'export { y } from "../b/y.ts";'),
      ...importsOf("plugins/b/y.ts", 'import "../a/z.ts";'),
    ];
    const found = importCycles(edges);
    expect(found.files).toEqual([["testbed/report-html.ts", "testbed/report.ts"]]);
    expect(found.folders).toEqual([["plugins/a", "plugins/b"]]);
  });
});
