/**
 * The order test files start in. With the durations of an earlier run (vitest's cache, as
 * on a developer's machine) vitest's own: failed first, then longest first. Without them
 * (a clean clone: CI) vitest goes by file size, which starts some short QEMU files (minutes
 * each under TCG) late, so one may hold the run's end while the other worker idles; here
 * the end-to-end files (*.e2e.test.ts) go first, each group still largest first.
 */
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

export default class EndToEndFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const timed = (f: TestSpecification) =>
      this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`);
    if (sorted.every(timed)) return sorted;
    const e2e = (f: TestSpecification) => f.moduleId.endsWith(".e2e.test.ts");
    return [...sorted.filter(e2e), ...sorted.filter((f) => !e2e(f))];
  }
}
