/** A site file run as users run it (`bootmedia testbed --site site.yaml --json`), for the end-to-end tests. */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bootmedia } from "../../testing/cli.ts";

export interface SiteRun<C> {
  exitCode: number | undefined;
  cases: C[];
  stderr: string;
  ms: number;
}

/** Runs `dir`/site.yaml into `report`; the CLI's output is kept as `dir`/testbed.out. */
export async function runSiteFileCli<C>(dir: string, report: string, env: Record<string, string>): Promise<SiteRun<C>> {
  const t0 = Date.now();
  const r = await bootmedia(["testbed", "--site", "site.yaml", "--report-dir", report, "--json"], { env, cwd: dir });
  await writeFile(join(dir, "testbed.out"), `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  return {
    exitCode: r.exitCode,
    cases: (JSON.parse(r.stdout) as { cases: C[] }).cases,
    stderr: r.stderr,
    ms: Date.now() - t0,
  };
}

/** Removes a test's folder, unless BOOTMEDIA_KEEP_TEST_DIR=1 asks to keep it for a look (then says where). */
export async function removeUnlessKept(dir: string | undefined, what: string): Promise<void> {
  if (!dir) return;
  if (!process.env.BOOTMEDIA_KEEP_TEST_DIR) await rm(dir, { recursive: true, force: true });
  else process.stderr.write(`${what}: kept ${dir}\n`);
}
