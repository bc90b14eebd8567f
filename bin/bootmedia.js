#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx's loader (no build step to go stale).
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { register } from "tsx/esm/api";

// Writers stream gigabytes through small reused buffers: a young generation that never
// grows past its initial size keeps peak RSS flat (measured: FAT bench 110 → ~90 MiB).
setFlagsFromString("--semi-space-growth-factor=1");
// tsx caches compiled sources in TMPDIR; an unusable TMPDIR (TMPDIR=/proc hung, a read-only
// one threw from the loader) must not stop even --version. Without the cache it still runs;
// commands that need scratch space report BM4007 themselves.
try {
  rmdirSync(mkdtempSync(join(tmpdir(), "bootmedia-probe-")));
} catch {
  process.env.TSX_DISABLE_CACHE = "1";
}
register();
const { main, installSignalHandlers } = await import("../cli/main.ts");
installSignalHandlers();
process.exitCode = await main(process.argv);
// The command is over. A plugin may have left a live timer or socket behind (a hook stuck
// on setInterval ends as BM4005, but its interval would keep the process alive forever):
// if anything still holds the event loop a moment later, end the process. Unref'd, so a
// process with nothing left exits at once, as before.
setTimeout(() => process.exit(), 2000).unref();
