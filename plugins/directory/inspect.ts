/** Reads a media folder back: its files and media configuration. */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import fg from "fast-glob";
import type { Inspector, InspectReport } from "../../core/plugin.ts";
import { CONFIG_JSON } from "../../core/media-config.ts";

export const directoryInspector: Inspector = {
  async detect(path) {
    return stat(join(path, CONFIG_JSON)).then(
      (s) => s.isFile(),
      () => false,
    );
  },
  async inspect(path) {
    const names = (await fg("**/*", { cwd: path, onlyFiles: true, dot: true })).sort();
    const files = await Promise.all(names.map(async (p) => ({ path: p, size: (await stat(join(path, p))).size })));
    const config = JSON.parse(await readFile(join(path, CONFIG_JSON), "utf8")) as unknown;
    return { kind: "directory", path, files, config };
  },
  format(report: InspectReport) {
    const files = report.files as Array<{ path: string; size: number }>;
    return (
      [
        `media folder ${report.path}`,
        `configuration:`,
        JSON.stringify(report.config, null, 2),
        `files (${files.length}):`,
        ...files.map((f) => `  ${String(f.size).padStart(12)}  ${f.path}`),
      ].join("\n") + "\n"
    );
  },
};
