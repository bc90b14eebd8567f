/**
 * Benchmark: our newc writer against GNU cpio (`cpio -o -H newc`) on the same tree,
 * uncompressed and gzip, printed side by side. Tree: a folder given as argument
 * (e.g. fixtures/boot-images/build/x64/kernel/lib/modules), else a synthetic one.
 *
 *   npx tsx formats/cpio/bench/bench.ts [folder]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { writeCpioArchive, type CpioEntry } from "../writer.ts";

function makeSyntheticTree(root: string): void {
  for (let d = 0; d < 40; d++) {
    mkdirSync(join(root, `dir${d}`), { recursive: true });
    for (let f = 0; f < 50; f++) {
      const size = ((d * 50 + f) * 7919) % 200_000;
      writeFileSync(join(root, `dir${d}`, `file${f}.bin`), Buffer.alloc(size, (d + f) & 0xff));
    }
  }
}

function listTree(root: string, dir = root, out: CpioEntry[] = []): CpioEntry[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const st = statSync(full);
    const path = relative(root, full);
    if (st.isDirectory()) {
      out.push({ type: "dir", path });
      listTree(root, full, out);
    } else if (st.isFile()) {
      out.push({ type: "file", path, size: st.size, source: { kind: "file", path: full } });
    }
  }
  return out;
}

async function time(fn: () => Promise<void> | void): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const work = mkdtempSync(join(tmpdir(), "bm-cpio-bench-"));
try {
  const root = process.argv[2] ?? join(work, "tree");
  if (!process.argv[2]) makeSyntheticTree(root);
  const entries = listTree(root);
  const bytes = entries.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0);
  console.log(`tree: ${root}: ${entries.length} entries, ${(bytes / 2 ** 20).toFixed(1)} MiB`);
  const rows: Array<[string, number, number]> = [];
  for (const compression of ["none", "gzip"] as const) {
    const ours = join(work, `ours.${compression}`);
    const gnu = join(work, `gnu.${compression}`);
    const oursMs = await time(() => writeCpioArchive(entries, ours, { sourceDateEpoch: 0, compression }));
    const gz = compression === "gzip" ? " | gzip -6" : "";
    const gnuMs = await time(() => {
      execFileSync(
        "sh",
        ["-c", `find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible${gz} > '${gnu}'`],
        { cwd: root },
      );
    });
    rows.push(
      [`ours (${compression})`, oursMs, statSync(ours).size],
      [`GNU cpio (${compression})`, gnuMs, statSync(gnu).size],
    );
  }
  console.log("writer".padEnd(22), "time ms".padStart(9), "MiB/s".padStart(8), "size".padStart(12));
  for (const [name, ms, size] of rows) {
    console.log(
      name.padEnd(22),
      ms.toFixed(0).padStart(9),
      (bytes / 2 ** 20 / (ms / 1000)).toFixed(0).padStart(8),
      String(size).padStart(12),
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
