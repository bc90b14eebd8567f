/**
 * The order test files start in. With the durations of an earlier run (vitest's cache, as
 * on a developer's machine) vitest's own: failed first, then longest first. Without them
 * (a clean clone: CI) vitest goes by file size, which starts some short QEMU files (minutes
 * each under TCG) late, so one may hold the run's end while the other worker idles; here
 * the end-to-end files (*.e2e.test.ts) go first, each group still largest first.
 */
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** The longest file of a clean run: started before every other. */
const FIRST = ["testbed/deploy.e2e.test.ts"];
/** Files that reuse what a FIRST file builds (the OS images): last of the end-to-end files. */
const LAST_E2E = ["backends/os-image-builder/os-image.e2e.test.ts"];

export default class EndToEndFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const timed = (f: TestSpecification) =>
      this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`);
    if (sorted.every(timed)) return sorted;
    const e2e = (f: TestSpecification) => f.moduleId.endsWith(".e2e.test.ts");
    const rank = (f: TestSpecification) => {
      const rel = relative(this.ctx.config.root, f.moduleId);
      return FIRST.includes(rel) ? 0 : LAST_E2E.includes(rel) ? 2 : 1;
    };
    const ends = sorted.filter(e2e).sort((a, b) => rank(a) - rank(b));
    return [...ends, ...sorted.filter((f) => !e2e(f))];
  }
}
